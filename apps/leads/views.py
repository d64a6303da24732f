from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.generic import ListView

from apps.accounts.mixins import RoleRequiredMixin
from apps.accounts.permissions import has_role
from apps.leads.selectors import leads_for_user


@login_required
def home(request):
    if not has_role(request.user):
        raise PermissionDenied("Your account has no Leadflow role yet; ask an admin.")
    return redirect("leads:list")


class LeadListView(RoleRequiredMixin, ListView):
    template_name = "leads/lead_list.html"
    context_object_name = "leads"
    paginate_by = 50

    def get_queryset(self):
        return leads_for_user(self.request.user).order_by("-created_at", "-id")
