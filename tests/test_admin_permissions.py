"""Least privilege in the admin (SPEC §8): every admin view and action checks the model permission.

The URLs are enumerated from the project's URL resolver, not listed by hand, so
a view or an import page added later is walked too; every object URL gets a
real object's id. A staff user with no permission must be refused (403, 404 or
the login page) everywhere, see none of the data, and change nothing. A staff
user who may only view a model is offered none of its actions and cannot run them.
"""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, SolarSchedule
from rest_framework.authtoken.models import Token, TokenProxy

from apps.criteria.models import CurrencyRate
from apps.leads.models import Lead
from apps.reports.models import ReportSettings, WeeklyReport
from apps.sla.services import sla_sweep
from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.services import webhook_test_send
from tests.factories import EngagementFactory, LeadFactory, UserFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db

SECRETS = ("zebulon.secret@walk.example", "Zebulon", "Hidden Harbor Ltd")
# Admin-site pages any staff member may open: they show no model's data.
OPEN_TO_ANY_STAFF = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "jsi18n",
}
# Values for URL parameters that are not an object's id.
PARAMETERS = {"name": "accept", "app_label": "leads", "url": "nothing-here/"}


@pytest.fixture
def world(marketer, rep, manager, django_capture_on_commit_callbacks):
    """At least one row of every model the admin shows, the lead's with recognisable values."""
    with django_capture_on_commit_callbacks(execute=True):
        lead = walk_to(
            LeadFactory(
                email=SECRETS[0], first_name=SECRETS[1], last_name="Quill", company=SECRETS[2]
            ),
            "mql",
            marketer=marketer,
            manager=manager,
        )
        sla_sweep(now=lead.mql_at + dt.timedelta(hours=25))
    EngagementFactory(lead=lead)
    token = Token.objects.create(user=marketer)
    WeeklyReport.objects.create(week="2026-W20", document={"mqls": 1}, as_of=timezone.now())
    ReportSettings.load()
    CurrencyRate.objects.get_or_create(currency="EUR", defaults={"rate": "1.1"})
    SolarSchedule.objects.create(event="sunrise", latitude=35.68, longitude=139.69)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    axes_fields = {"user_agent": "test", "ip_address": "203.0.113.7", "username": "rita"}
    AccessAttempt.objects.create(**axes_fields, failures_since_start=1, get_data="", post_data="")
    AccessLog.objects.create(**axes_fields)
    AccessFailureLog.objects.create(**axes_fields)
    # A delivery row without sending it (its after-commit kick is not run).
    hook = WebhookEndpoint.objects.create(
        name="Warehouse", url="https://hooks.example.com/in", event_types=["lead.created"]
    )
    webhook_test_send(endpoints=[hook])
    return {"lead": lead, "secrets": (*SECRETS, token.key)}


def object_id(model):
    obj = model.objects.order_by("pk").first()
    assert obj is not None, f"the walk needs a {model._meta.label} row: add one to the world"
    # DRF's token admin addresses a token by its user's id, not by the secret key.
    return str(obj.user_id if model is TokenProxy else obj.pk)


def fill(route: str, model) -> str:
    """A concrete path for ``route`` (a path() route or a regex), with real values."""

    def value(name):
        if name in ("object_id", "pk", "id"):
            return object_id(model or Lead)
        if name == "content_type_id":
            return str(ContentType.objects.get_for_model(Lead).pk)
        assert name in PARAMETERS, f"admin URL parameter '{name}' needs a value in PARAMETERS"
        return PARAMETERS[name]

    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m[1]), route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m[1]), route)
    return route.lstrip("^").rstrip("$")


def admin_urls():
    """(url name, path, model) for every pattern under /admin/, found by walking the resolver."""
    [admin_root] = [
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and entry.app_name == "admin"
    ]
    found = []

    def walk(patterns, prefix, model):
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                app_label, _, model_name = route.strip("/").partition("/")
                walk(entry.url_patterns, prefix + route, apps.get_model(app_label, model_name))
            elif isinstance(entry, URLPattern):
                found.append((entry.name, "/admin/" + fill(prefix + route, model), model))

    walk(admin_root.url_patterns, "", None)
    return found


def assert_refused(client, response, secrets, what):
    """403, 404, 405 or the login page, following redirects within the admin; never the data."""
    for _ in range(3):
        body = response.content.decode(errors="replace")
        for secret in secrets:
            assert secret not in body, f"{what} showed {secret!r}"
        if response.status_code not in (301, 302):
            break
        location = urlsplit(response["Location"]).path
        if location in ("/admin/login/", "/accounts/login/"):
            return
        response = client.get(response["Location"])
    assert response.status_code in (403, 404, 405), f"{what}: {response.status_code}"


def snapshot():
    return {
        model._meta.label: sorted(
            (str(row.pk), repr(sorted(model_to_dict(row).items()))) for row in model.objects.all()
        )
        for model in admin.site._registry
        if model is not TokenProxy
    }


def test_the_walk_covers_every_registered_model_and_the_custom_views(world):
    urls = admin_urls()
    walked_models = {model for _, _, model in urls if model is not None}
    assert walked_models == set(admin.site._registry)
    names = {name for name, _, _ in urls}
    assert {"leads_lead_transition", "view_on_site", "app_list"} <= names


def test_staff_without_permissions_are_refused_every_admin_url_and_change_nothing(
    client, staff_only, world
):
    client.force_login(staff_only)
    before = snapshot()
    for name, path, _model in admin_urls():
        if name in OPEN_TO_ANY_STAFF:
            response = client.get(path)
            body = response.content.decode(errors="replace")
            assert not any(secret in body for secret in world["secrets"]), path
            continue
        assert_refused(client, client.get(path), world["secrets"], f"GET {path}")
        assert_refused(client, client.post(path, {}), world["secrets"], f"POST {path}")
    assert snapshot() == before


def all_actions():
    """(model, action name) for every action the admin offers someone who may do everything."""
    superuser = UserFactory(username="root-for-actions", is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    return [
        (model, action)
        for model, model_admin in admin.site._registry.items()
        for action in model_admin.get_actions(request)
    ]


def run_action(client, model, action, world):
    changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    return client.post(
        changelist,
        {"action": action, "_selected_action": [object_id(model)], "index": "0", "post": "yes"},
    )


def test_staff_without_permissions_cannot_run_any_action(client, staff_only, world):
    actions = all_actions()
    assert {action for _, action in actions} >= {"archive", "transition_accept", "resend"}
    client.force_login(staff_only)
    before = snapshot()
    for model, action in actions:
        response = run_action(client, model, action, world)
        assert_refused(client, response, world["secrets"], f"action {action} on {model}")
    assert snapshot() == before


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_staff_who_may_only_view_a_model_are_offered_none_of_its_actions(client, model, world):
    viewer = UserFactory(username="vera", is_staff=True)
    opts = model._meta
    viewer.user_permissions.add(
        Permission.objects.get(
            content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
            codename=f"view_{opts.model_name}",
        )
    )
    request = RequestFactory().get("/admin/")
    request.user = viewer
    assert list(admin.site._registry[model].get_actions(request)) == []

    actions = [action for action_model, action in all_actions() if action_model is model]
    client.force_login(viewer)
    before = snapshot()
    for action in actions:
        run_action(client, model, action, world)
    assert snapshot() == before


def test_a_manager_who_may_change_leads_still_runs_the_archive_action(client, world):
    editor = UserFactory(username="eddie", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_lead", "change_lead"])
    )
    client.force_login(editor)
    run_action(client, Lead, "archive", world)
    assert Lead.objects.get(pk=world["lead"].pk).archived_at is not None
