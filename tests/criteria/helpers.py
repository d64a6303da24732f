"""What the criteria tests share: SPEC's default scoring table and the MQL criteria admin form."""

from apps.criteria.models import MQLCriteria

# SPEC §3: the points of each engagement kind, as a fresh install seeds them.
SPEC_POINTS = {
    "page_view": 1,
    "pricing_page_view": 3,
    "content_download": 2,
    "webinar_registration": 2,
    "webinar_attendance": 4,
    "email_click": 1,
    "inquiry": 2,
    "document_request": 3,
    "quote_request": 5,
    "demo_request": 8,
    "event_visit": 2,
}


def mql_criteria_form(**fields):
    """The MQL criteria admin form filled as the defaults read (score ≥ 10, 3 engagements, a
    pricing page view, fit required), with ``fields`` changed (``_preview``/``_save``: the button)."""
    return {
        "score_threshold": "10",
        "min_engagements": "3",
        "required_kinds": ["pricing_page_view"],
        "fit_required": "on",
        "note": "",
        **fields,
    }


def mql_criteria_change_url(criteria=None):
    """The admin change page of ``criteria`` (default: the active version)."""
    criteria = criteria or MQLCriteria.objects.get(is_active=True)
    return f"/admin/criteria/mqlcriteria/{criteria.pk}/change/"
