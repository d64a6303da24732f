"""The defaults of SPEC §3 and §4, so a fresh install scores and assigns at once."""

from decimal import Decimal

from django.db import migrations

POINTS = {
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
SOURCES = [
    ("website", "Website"),
    ("webinar", "Webinar"),
    ("event", "Event"),
    ("content", "Content"),
    ("ads", "Ads"),
    ("referral", "Referral"),
    ("email", "Email"),
    ("partner", "Partner"),
    ("import", "Import"),
    ("other", "Other"),
]
REJECT_REASONS = [
    ("not_a_fit", "Not a fit"),
    ("no_budget", "No budget"),
    ("no_authority", "No authority"),
    ("no_need", "No need"),
    ("bad_timing", "Bad timing"),
    ("bad_contact_data", "Bad contact data"),
    ("duplicate", "Duplicate"),
    ("competitor", "Competitor"),
    ("existing_customer", "Existing customer"),
    ("other", "Other"),
]
DISQUALIFY_REASONS = [
    ("spam", "Spam"),
    ("competitor", "Competitor"),
    ("existing_customer", "Existing customer"),
    ("bad_data", "Bad data"),
    ("duplicate", "Duplicate"),
]


def forwards(apps, schema_editor):
    get = apps.get_model
    for kind, points in POINTS.items():
        get("criteria", "ScoringRule").objects.get_or_create(kind=kind, defaults={"points": points})
    get("criteria", "ScoringSettings").objects.get_or_create(pk=1)
    get("criteria", "FitRule").objects.get_or_create(
        pk=1, defaults={"employees_min": 50, "employees_max": 500}
    )
    get("criteria", "SQLCriteria").objects.get_or_create(
        pk=1,
        defaults={
            "min_budget": Decimal("10000"),
            "account_currency": "USD",
            "max_timeline_months": 6,
            "accepted_authorities": ["decision_maker", "influencer"],
            "need_required": True,
        },
    )
    get("criteria", "SLAPolicy").objects.get_or_create(
        pk=1, defaults={"accept_within_hours": 24, "process_within_hours": 48}
    )
    MQLCriteria = get("criteria", "MQLCriteria")
    if not MQLCriteria.objects.exists():
        MQLCriteria.objects.create(
            version=1,
            is_active=True,
            score_threshold=10,
            min_engagements=3,
            required_kinds=["pricing_page_view"],
            fit_required=True,
            note="SPEC defaults",
        )
    for model, entries in (
        ("LeadSource", SOURCES),
        ("RejectReason", REJECT_REASONS),
        ("DisqualifyReason", DISQUALIFY_REASONS),
    ):
        for position, (code, label) in enumerate(entries):
            get("criteria", model).objects.get_or_create(
                code=code, defaults={"label": label, "position": position}
            )


class Migration(migrations.Migration):
    dependencies = [("criteria", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
