"""Examples shown in the API docs (and checked against the schema by the tests)."""

from drf_spectacular.utils import OpenApiExample

# Aiko's web-form lead: what the request sends, and what the lead echoes back.
AIKO = {
    "email": "aiko.tanaka@kumo.example",
    "first_name": "Aiko",
    "last_name": "Tanaka",
    "title": "Head of Sales Ops",
    "phone": "+81 3 1234 5678",
    "company": "Kumo Systems",
    "employees": 220,
    "industry": "software",
    "country": "JP",
    "source": "website",
    "campaign": "spring-webinar",
}
LEAD_REQUEST = OpenApiExample("A web-form lead", request_only=True, value=AIKO)
LEAD_RESPONSE = OpenApiExample(
    "The lead",
    response_only=True,
    status_codes=["201", "200"],
    value={
        "id": 42,
        **AIKO,
        "stage": "new",
        "score": 0,
        "engagement_count": 0,
        "fit": "pass",
        "fit_reason": "matches the fit rule",
        "owner": None,
        "mql_at": None,
        "accept_due_at": None,
        "process_due_at": None,
        "accepted_at": None,
        "rejected_at": None,
        "sql_at": None,
        "opportunity_at": None,
        "closed_at": None,
        "disqualified_at": None,
        "created_at": "2026-05-11T09:30:00Z",
        "updated_at": "2026-05-11T09:30:00Z",
    },
)
LEAD_INVALID = OpenApiExample(
    "A bad lead",
    response_only=True,
    status_codes=["400"],
    value={
        "detail": "email: Enter a valid email address. (and 1 more problem)",
        "errors": {
            "email": ["Enter a valid email address."],
            "source": [
                "'fax' is not an active lead source; use one of: website, webinar, event, content, "
                "ads, referral, email, partner, import, other."
            ],
        },
    },
)

ENGAGEMENT_ONE = OpenApiExample(
    "One engagement",
    request_only=True,
    value={
        "lead_email": "aiko.tanaka@kumo.example",
        "kind": "pricing_page_view",
        "occurred_at": "2026-05-11T09:41:00+09:00",
        "external_id": "web-7f3a91",
        "metadata": {"url": "/pricing"},
    },
)
ENGAGEMENT_LIST = OpenApiExample(
    "A list",
    request_only=True,
    value=[
        {
            "lead_id": 42,
            "kind": "webinar_attendance",
            "occurred_at": "2026-05-12T10:00:00Z",
            "source": "webinar",
            "campaign": "spring-webinar",
            "external_id": "wbn-2026-05-42",
        },
        {
            "lead_email": "ken@example.com",
            "kind": "demo_request",
            "occurred_at": "2026-05-12T10:05:00Z",
        },
    ],
)
ENGAGEMENT_RESULT = OpenApiExample(
    "Stored",
    response_only=True,
    status_codes=["201"],
    value={"created": 2, "duplicates": [], "promoted": [42]},
)
ENGAGEMENT_INVALID = OpenApiExample(
    "A list with bad items",
    response_only=True,
    status_codes=["400"],
    value={
        "detail": "2 of 500 engagements are invalid; nothing was stored. First: item 3.",
        "errors": {
            "3": {
                "kind": [
                    "'pageview' is not an engagement kind; use one of: page_view, pricing_page_view, …"
                ]
            },
            "17": {"lead_email": ["No lead with email nobody@example.com."]},
        },
    },
)

CONFLICT = OpenApiExample(
    "The stage does not allow it",
    response_only=True,
    status_codes=["409"],
    value={"detail": "Cannot accept a lead that is Accepted.", "stage": "accepted"},
)

TRANSITION_EXAMPLES = {
    "accept": [
        OpenApiExample("Accept", request_only=True, value={"expected_stage": "mql"}),
        CONFLICT,
    ],
    "reject": [
        OpenApiExample(
            "Reject",
            request_only=True,
            value={"reason": "no_budget", "note": "Budget frozen until Q3"},
        ),
        OpenApiExample(
            "No reason",
            response_only=True,
            status_codes=["400"],
            value={
                "detail": "reason: Choose a reject reason.",
                "errors": {"reason": ["Choose a reject reason."]},
            },
        ),
        CONFLICT,
    ],
    "qualify": [
        OpenApiExample(
            "BANT",
            request_only=True,
            value={
                "budget_amount": "25000.00",
                "budget_currency": "USD",
                "authority": "decision_maker",
                "need": "Replace spreadsheets for lead routing",
                "timeline": "2026-09-30",
                "notes": "Call with CFO next week",
            },
        )
    ],
    "convert": [
        OpenApiExample(
            "Opportunity",
            request_only=True,
            value={"amount": "30000.00", "currency": "USD", "expected_close_date": "2026-10-31"},
        )
    ],
    "lose": [OpenApiExample("Lost", request_only=True, value={"reason": "Chose a competitor"})],
    "promote": [
        OpenApiExample(
            "By hand", request_only=True, value={"reason": "Asked for a call at the booth"}
        )
    ],
    "disqualify": [OpenApiExample("Spam", request_only=True, value={"reason": "spam"})],
    "resubmit": [
        OpenApiExample(
            "Dispute", request_only=True, value={"note": "They do have budget: see the call notes"}
        ),
    ],
    "reassign": [
        OpenApiExample(
            "To a rep", request_only=True, value={"owner": "rita", "reason": "Territory"}
        )
    ],
}
