"""DRF permission classes, each a thin wrapper over a predicate of ``apps.accounts.permissions``."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from apps.accounts.permissions import (
    can_create_leads,
    can_record_engagements,
    can_view_reports,
    has_role,
)


class HasLeadflowRole(BasePermission):
    """A signed-in user in at least one product role; anyone else sees nothing."""

    message = _("Your account has no Leadflow role yet; ask an admin.")

    def has_permission(self, request, view):
        return has_role(request.user)


class MayCreateLeadsToPost(HasLeadflowRole):
    """Reading is for every role; creating and updating leads is for marketing."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method == "POST" and not can_create_leads(request.user):
            self.message = _("Only marketing may create or update leads.")
            return False
        return True


class MayRecordEngagements(HasLeadflowRole):
    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if not can_record_engagements(request.user):
            self.message = _("Only marketing may record engagements.")
            return False
        return True


class MayViewReports(HasLeadflowRole):
    """Reports are for marketing and sales managers."""

    message = _("Only marketing and sales managers see the reports.")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and can_view_reports(request.user)
