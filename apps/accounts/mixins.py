from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from apps.accounts.permissions import has_role


class RoleRequiredMixin(AccessMixin):
    """Anonymous users go to the login page; users in no role get 403.

    A page for some roles only names them with ``page_for`` (a predicate of the user,
    wrapped in ``staticmethod``); the others get 403 with ``permission_denied_message``.
    """

    page_for = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user):
            raise PermissionDenied(_("Your account has no Leadflow role yet; ask an admin."))
        if self.page_for is not None and not self.page_for(request.user):
            raise PermissionDenied(self.get_permission_denied_message())
        return super().dispatch(request, *args, **kwargs)
