"""From a suggestion to a draft version, its what-if in Django admin, and publishing it."""

from html.parser import HTMLParser

import pytest
import time_machine
from django.utils.datastructures import MultiValueDict

from apps.criteria.models import FitRule, MQLCriteria
from apps.leads.services import EngagementInput, engagements_record
from tests.factories import LeadFactory
from tests.reports.funnels import NOW, worked_example

pytestmark = pytest.mark.django_db


class DraftForms(HTMLParser):
    """The "Make a draft" forms of a suggestions page, each as {name: [values]}, in page order."""

    def __init__(self):
        super().__init__()
        self.forms: list[MultiValueDict] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("action") == "/reports/suggestions/draft/":
            self.inside = True
            self.forms.append(MultiValueDict())
        elif tag == "input" and self.inside and attrs.get("name"):
            self.forms[-1].appendlist(attrs["name"], attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def draft_forms(page: str) -> list[MultiValueDict]:
    parser = DraftForms()
    parser.feed(page)
    return parser.forms


@pytest.fixture
def suggested(tokyo, history, client, admin_user):
    """The worked example's suggestions page as an admin sees it, on NOW."""
    worked_example(history)
    client.force_login(admin_user)
    with time_machine.travel(NOW, tick=False):
        response = client.get("/reports/suggestions/")
        rows = response.context["rows"]
        forms = draft_forms(response.content.decode())
        assert len(forms) == len(rows)
        # The worked example's own candidate: 28%, employees 50–500.
        index = next(i for i, row in enumerate(rows) if abs(row.candidate.rate - 0.28) < 0.005)
        yield rows[index].candidate, forms[index]


def post_data(form: MultiValueDict) -> dict:
    return {key: form.getlist(key) for key in form}


def test_making_a_draft_saves_an_inactive_version_and_opens_its_what_if(suggested, client):
    candidate, form = suggested
    active = MQLCriteria.active()

    with time_machine.travel(NOW, tick=False):
        response = client.post("/reports/suggestions/draft/", post_data(form))
        draft = MQLCriteria.objects.get(version__isnull=True)
        assert response.status_code == 302
        assert response["Location"] == f"/reports/suggestions/drafts/{draft.pk}/?weeks=13"
        page = client.get(response["Location"])

    assert MQLCriteria.active() == active  # nothing promotes with the draft
    assert draft.as_rule() == candidate.rule
    assert draft.fit_rule_change == {
        "employees_min": 50,
        "employees_max": 500,
        "allowed_industries": "",
        "allowed_countries": "",
    }
    assert draft.note.startswith("Suggested for 2026-W09–2026-W20: MQL→SQL 28.0%")
    assert FitRule.load().employees_min == 10  # published only with the draft
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="whatif"' in html and 'data-testid="draft-banner"' in html
    assert f'action="/admin/criteria/mqlcriteria/{draft.pk}/change/"' in html
    assert "fit rule: employees 50–500; any industry; any country" in html
    whatif = page.context["whatif"]
    assert whatif.proposed == candidate.rule and len(whatif.weeks) == 13
    assert whatif.totals.proposed_mqls == 100 and whatif.totals.proposed_sqls == 28


def test_publishing_the_draft_in_admin_stamps_the_next_promotion_with_it(suggested, client, rep):
    _candidate, form = suggested
    with time_machine.travel(NOW, tick=False):
        client.post("/reports/suggestions/draft/", post_data(form))
    draft = MQLCriteria.objects.get(version__isnull=True)

    response = client.post(
        f"/admin/criteria/mqlcriteria/{draft.pk}/change/",
        {
            "score_threshold": str(draft.score_threshold),
            "min_engagements": str(draft.min_engagements),
            "required_kinds": draft.required_kinds,
            "fit_required": "on",
            "note": draft.note,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    published = MQLCriteria.active()
    assert published.pk == draft.pk and published.version == 3
    assert (FitRule.load().employees_min, FitRule.load().employees_max) == (50, 500)
    small, fitting = LeadFactory(employees=20), LeadFactory(employees=200)
    for lead in (small, fitting):
        engagements_record(
            items=[
                EngagementInput(lead_id=lead.pk, kind=kind, occurred_at=lead.created_at)
                for kind in ("pricing_page_view", "page_view", "email_click")
            ]
        )
    assert not small.transitions.filter(transition="promote").exists()
    assert fitting.transitions.get(transition="promote").criteria.version == 3


def test_only_admins_make_drafts(suggested, client, marketer, manager, rep):
    _candidate, form = suggested

    for user in (marketer, manager, rep):
        client.force_login(user)
        assert client.post("/reports/suggestions/draft/", post_data(form)).status_code == 403
    client.logout()
    assert client.post("/reports/suggestions/draft/", post_data(form))["Location"].startswith(
        "/accounts/login/"
    )
    assert not MQLCriteria.objects.filter(version__isnull=True).exists()


def test_a_tampered_draft_is_a_400_and_stores_nothing(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/reports/suggestions/draft/",
        {
            "score_threshold": "-3",
            "min_engagements": "2",
            "required_kinds": ["telepathy"],
            "change_fit_rule": "on",
            "employees_min": "900",
            "employees_max": "100",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "could not be made into a draft" in page
    assert "telepathy is not one of the available choices" in page
    assert not MQLCriteria.objects.filter(version__isnull=True).exists()


def test_a_draft_page_of_a_published_version_leads_to_that_version(client, admin_user):
    client.force_login(admin_user)
    active = MQLCriteria.active()

    response = client.get(f"/reports/suggestions/drafts/{active.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/admin/criteria/mqlcriteria/{active.pk}/change/"
    assert client.get("/reports/suggestions/drafts/999999/").status_code == 404
