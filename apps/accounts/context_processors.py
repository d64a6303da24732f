from django.utils.functional import SimpleLazyObject

from apps.accounts.permissions import (
    can_review_rejected_leads,
    can_view_reports,
    can_work_leads,
    has_role,
)


def navigation(request):
    """The header's sections for the signed-in user, on every page (templates get booleans)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": SimpleLazyObject(lambda: sections_for(user))}


def sections_for(user) -> dict:
    return {
        "inbox": can_work_leads(user),
        "review": can_review_rejected_leads(user),
        "leads": has_role(user),
        "reports": can_view_reports(user) and has_role(user),
    }
