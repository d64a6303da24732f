from django.utils.functional import SimpleLazyObject

from apps.accounts.permissions import (
    can_review_rejected_leads,
    can_view_reports,
    can_work_leads,
    has_role,
)
from apps.accounts.timezones import COMMON_ZONES


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


def time_zones(request):
    """The header's time-zone chooser: the active zone and the zones it offers."""
    active = getattr(request, "time_zone", "")
    user = getattr(request, "user", None)
    chosen = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
    offered = list(COMMON_ZONES)
    for zone in (active, chosen):
        if zone and zone not in offered:
            offered.append(zone)
    return {"time_zone_active": active, "time_zone_chosen": chosen, "time_zones_offered": offered}
