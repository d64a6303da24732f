"""Reads of leads, always scoped to what the user may see (STYLE rule 4)."""

from django.http import Http404

from apps.accounts.permissions import visible_leads_filter
from apps.leads.models import Lead


def leads_for_user(user):
    """Every lead ``user`` may see, unarchived, with what list pages show."""
    leads = Lead.objects.filter(archived_at__isnull=True).select_related("owner", "source")
    condition = visible_leads_filter(user)
    return leads if condition is None else leads.filter(condition)


def lead_for_user(user, pk) -> Lead:
    """The lead ``pk`` if ``user`` may see it; 404 otherwise, so ids leak nothing."""
    lead = leads_for_user(user).filter(pk=pk).first()
    if lead is None:
        raise Http404("No such lead.")
    return lead
