from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from apps.accounts.permissions import has_role


class RoleRequiredMixin(AccessMixin):
    """Anonymous users go to the login page; users in no role get 403."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user):
            raise PermissionDenied(_("Your account has no Leadflow role yet; ask an admin."))
        return super().dispatch(request, *args, **kwargs)
