"""Every URL of the web UI, for every role: the status each gets, decided on the server.

The table must name every UI route: a new URL without a row here fails
``test_every_ui_url_is_in_the_table``, so nobody adds a page without deciding
who may open it.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.accounts.models import User
from apps.criteria.models import MQLCriteria
from apps.leads.models import Lead, LeadImport
from tests.leads.helpers import mql_owned_by

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "rep", "other_rep", "marketer", "manager", "admin", "nobody")
# Covered by their own suites: the admin, the JSON API (and its event feed), the notifications.
EXCLUDED_NAMESPACES = {"admin", "api", "sla", "notifications", "events"}

LOGIN = "login"  # 302 to the login page
DONE = "done"  # 302 back to the page, the action done
#   name: (GET status per role, in ROLES order)
GET_EXPECTED = {
    "home": (LOGIN, 302, 302, 302, 302, 302, 403),
    # The icon browsers ask for on every page, for anyone: to the static SVG.
    "favicon": (301, 301, 301, 301, 301, 301, 301),
    "login": (200, 200, 200, 200, 200, 200, 200),
    "logout": (405, 405, 405, 405, 405, 405, 405),
    "accounts:language": (405, 405, 405, 405, 405, 405, 405),
    "accounts:time_zone": (405, 405, 405, 405, 405, 405, 405),
    "leads:list": (LOGIN, 200, 200, 200, 200, 200, 403),
    "leads:inbox": (LOGIN, 200, 200, 403, 200, 200, 403),
    "leads:review": (LOGIN, 403, 403, 200, 403, 200, 403),
    "leads:to_qualify": (LOGIN, 200, 200, 403, 200, 200, 403),
    # Imports from the UI: marketing (and superusers); an import is seen only by who started it.
    "leads:import": (LOGIN, 403, 403, 200, 403, 200, 403),
    "leads:import_job": (LOGIN, 403, 403, 200, 403, 404, 403),
    "leads:import_confirm": (LOGIN, 403, 403, 405, 403, 405, 403),
    # rep's own MQL: another rep gets 404, as for a lead that does not exist.
    "leads:detail": (LOGIN, 200, 404, 200, 200, 200, 403),
    # A reload of a form re-shown with errors: back to the lead page (which decides what is seen).
    "leads:transition": (LOGIN, DONE, DONE, DONE, DONE, DONE, 403),
    # Reports: marketing and managers.
    "reports:dashboard": (LOGIN, 403, 403, 200, 200, 200, 403),
    "reports:weekly_csv": (LOGIN, 403, 403, 200, 200, 200, 403),
    "reports:drivers": (LOGIN, 403, 403, 200, 200, 200, 403),
    "reports:suggestions": (LOGIN, 403, 403, 200, 200, 200, 403),
    # Drafts of MQL criteria: admins who edit the criteria only.
    "reports:suggestion_draft": (LOGIN, 403, 403, 405, 405, 405, 403),
    "reports:criteria_draft": (LOGIN, 403, 403, 403, 403, 200, 403),
}
# Action URLs, posted for real: (URL name, what is posted, status per role).
POST_EXPECTED = {
    "logout": (
        LOGIN,
        LOGIN,
        LOGIN,
        LOGIN,
        LOGIN,
        LOGIN,
        LOGIN,
    ),  # signed out, back to the login page
    "accounts:language": (DONE, DONE, DONE, DONE, DONE, DONE, DONE),
    "accounts:time_zone": (DONE, DONE, DONE, DONE, DONE, DONE, DONE),
    # Accepting rep's MQL: the owner and managers may, another rep finds nothing, marketing may not.
    "leads:transition": (LOGIN, DONE, 404, 403, DONE, DONE, 403),
    # A draft from a suggestion: only an admin gets as far as the (here invalid) input.
    "reports:suggestion_draft": (LOGIN, 403, 403, 403, 403, 400, 403),
}


def assert_status(response, expected, what):
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/"
        ), what
    elif expected == DONE:
        assert response.status_code == 302 and not response["Location"].startswith(
            "/accounts/login/"
        ), what
    else:
        assert response.status_code == expected, what


def ui_url_names(patterns=None, namespace=""):
    names = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            names |= ui_url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_ui_url_is_in_the_table():
    names = ui_url_names()
    assert names - set(GET_EXPECTED) == set(), (
        "add the new URL to GET_EXPECTED (and POST_EXPECTED if it acts)"
    )
    assert set(GET_EXPECTED) - names == set(), "a URL in the table no longer exists"


@pytest.fixture
def people(rep, other_rep, marketer, manager, admin_user, nobody):
    return {
        "anonymous": None,
        "rep": rep,
        "other_rep": other_rep,
        "marketer": marketer,
        "manager": manager,
        "admin": admin_user,
        "nobody": nobody,
    }


def url_for(name, lead):
    if name == "leads:detail":
        return reverse(name, args=[lead.pk])
    if name == "leads:transition":
        return reverse(name, args=[lead.pk, "accept"])
    if name in ("leads:import_job", "leads:import_confirm"):
        job = LeadImport.objects.create(
            created_by=User.objects.get(username="maya"), file_name="x.csv", path="", size=1
        )
        return reverse(name, args=[job.pk])
    if name == "reports:criteria_draft":
        draft = MQLCriteria.create_draft(
            values={"score_threshold": 20}, fit_rule_change=None, author=None
        )
        return reverse(name, args=[draft.pk])
    return reverse(name)


@pytest.mark.parametrize("name", sorted(GET_EXPECTED))
def test_get_status_per_role(client, people, name, rep, marketer, manager):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager)
    for role, expected in zip(ROLES, GET_EXPECTED[name], strict=True):
        client.logout()
        if people[role] is not None:
            client.force_login(people[role])
        assert_status(client.get(url_for(name, lead)), expected, f"GET {name} as {role}")


@pytest.mark.parametrize("name", sorted(POST_EXPECTED))
def test_post_status_per_role_and_only_the_allowed_change_anything(
    client, people, name, rep, marketer, manager
):
    for role, expected in zip(ROLES, POST_EXPECTED[name], strict=True):
        lead = (
            mql_owned_by(rep, marketer=marketer, manager=manager)
            if name == "leads:transition"
            else None
        )
        client.logout()
        if people[role] is not None:
            client.force_login(people[role])
        response = client.post(url_for(name, lead), {"expected_stage": "mql", "language": "en"})
        assert_status(response, expected, f"POST {name} as {role}")
        if lead is not None:
            stage = Lead.objects.get(pk=lead.pk).stage
            assert stage == ("accepted" if expected == DONE else "mql"), (
                f"{role} left the lead {stage}"
            )


def test_a_user_in_no_group_sees_only_the_login_page(client, nobody):
    client.force_login(nobody)
    response = client.get("/leads/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "no Leadflow role" in body
    assert 'href="/leads/inbox/"' not in body and 'href="/leads/"' not in body


def test_staff_without_a_role_gets_no_ui_either(client, staff_only):
    client.force_login(staff_only)
    assert client.get("/leads/").status_code == 403
    assert client.get("/leads/inbox/").status_code == 403


def test_the_favicon_is_found_and_every_page_links_it(client, rep):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/favicon.svg")
    client.force_login(rep)
    assert 'rel="icon"' in client.get(reverse("leads:list")).content.decode()
