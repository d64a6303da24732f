"""The Django admin in Japanese: our own pages and the third-party apps it shows (django-axes,
django-celery-beat) carry no English that has a Japanese translation.

The English looked for is computed, not listed: every app name, model name, field label and
help text, filter title and action description of the pages opened, as they read in English,
less those that read the same in Japanese ("crontab", "HTTP Accept").
"""

import datetime as dt
import html
import re

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django_celery_beat.models import ClockedSchedule, SolarSchedule

from apps.accounts.admin import SEEDED_TASK_NAMES
from apps.criteria.models import MQLCriteria
from apps.leads.models import Lead, StageTransition
from apps.leads.transitions import TRANSITIONS
from tests.criteria.helpers import mql_criteria_form

THIRD_PARTY = ("axes", "django_celery_beat")
OURS = (MQLCriteria, Lead)


def visible_text(page: str) -> str:
    """What a reader sees: the page without its tags, scripts and styles; option texts kept."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_words(request, models) -> set[str]:
    """The labels of ``models``' admin pages as they read in English, less those Japanese keeps."""
    words = {}  # English -> Japanese
    for model in models:
        opts = model._meta
        model_admin = admin.site._registry[model]
        labels = [
            apps.get_app_config(opts.app_label).verbose_name,
            opts.verbose_name,
            opts.verbose_name_plural,
        ]
        for field in opts.get_fields():
            labels += [getattr(field, "verbose_name", ""), getattr(field, "help_text", "")]
        labels += [
            description
            for _name, (_func, _name2, description) in model_admin.get_actions(request).items()
        ]
        for label in filter(None, labels):
            with translation.override("en"):
                english = capfirst(str(label))
            with translation.override("ja"):
                words[english] = capfirst(str(label))
    return {en for en, ja in words.items() if en != ja and len(en) > 3}


def english_on(page: str, words) -> list[str]:
    text = visible_text(page)
    return sorted(w for w in words if re.search(rf"(?<![\w.]){re.escape(w)}(?![\w.])", text))


@pytest.fixture
def site(db, admin_user):
    with time_machine.travel(dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC), tick=True):
        call_command("seed_demo", leads=20, verbosity=0)
    AccessAttempt.objects.create(
        username="mallory", ip_address="10.0.0.1", user_agent="curl", failures_since_start=3
    )
    AccessFailureLog.objects.create(username="mallory", ip_address="10.0.0.1", user_agent="curl")
    AccessLog.objects.create(username="ada", ip_address="10.0.0.2", user_agent="firefox")
    ClockedSchedule.objects.create(clocked_time=dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC))
    SolarSchedule.objects.create(event="sunrise", latitude=35.68, longitude=139.69)
    admin_user.language = "ja"
    admin_user.save(update_fields=["language"])
    return admin_user


def pages_of(model, user):
    """The changelist, the add page and the first row's change page of ``model`` (as permitted)."""
    opts = model._meta
    urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
    if admin.site._registry[model].has_add_permission(admin_request(user)):
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    return urls


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.django_db
def test_the_third_party_admin_pages_have_no_english_in_japanese(site, client):
    client.force_login(site)
    models = [m for label in THIRD_PARTY for m in apps.get_app_config(label).get_models()]
    models = [m for m in models if m in admin.site._registry]
    words = english_words(admin_request(site), models)
    assert {"Periodic tasks", "Access attempts", "Crontabs", "Solar events"} <= words
    # Labels the apps do not mark for translation, and the names our migrations seed.
    words |= {"Task Name", "Human readable", "Crontab translation", "Scheduler", "At 04:00"}
    words |= set(SEEDED_TASK_NAMES)
    words |= {"Attempted Access", "Failed access", "Access Log for", "Status"}
    # The index names every app in the reader's language (ours too).
    for config in {model._meta.app_config for model in admin.site._registry}:
        with translation.override("en"):
            english = str(config.verbose_name)
        with translation.override("ja"):
            if str(config.verbose_name) != english:
                words.add(english)

    found = {}
    for url in ["/admin/"] + [url for model in models for url in pages_of(model, site)]:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert 'lang="ja"' in response.content.decode()
        if english := english_on(response.content.decode(), words):
            found[url] = english
    assert not found, found


@pytest.mark.django_db
def test_the_criteria_and_lead_admin_have_no_english_in_japanese(site, client):
    client.force_login(site)
    words = english_words(admin_request(site), OURS) | {
        str(entry.label) for entry in TRANSITIONS.values()
    }
    words |= {"What-if", "SPEC defaults", "Created by", "pricing_page_view", "Pricing page view"}
    words |= {"MQL criteria v1 met", "Transition selected leads"}
    lead = Lead.objects.filter(pk__in=StageTransition.objects.values("lead")).first()
    criteria = MQLCriteria.objects.get(is_active=True)
    assert criteria.note == "SPEC defaults"  # the stored row keeps its words
    criteria_url = reverse("admin:criteria_mqlcriteria_change", args=[criteria.pk])

    pages = {url: client.get(url) for url in [*pages_of(MQLCriteria, site), *pages_of(Lead, site)]}
    pages[reverse("admin:leads_lead_change", args=[lead.pk])] = client.get(
        reverse("admin:leads_lead_change", args=[lead.pk])
    )
    pages["what-if"] = client.post(
        criteria_url, mql_criteria_form(_preview="1", score_threshold="20", preview_weeks="4")
    )
    found = {}
    for url, response in pages.items():
        assert response.status_code == 200, url
        if english := english_on(response.content.decode(), words):
            found[url] = english
    assert not found, found
    whatif = visible_text(pages["what-if"].content.decode())
    assert "試算" in whatif and "料金ページ閲覧" in whatif
    assert "仕様書の既定値" in visible_text(
        pages[reverse("admin:criteria_mqlcriteria_changelist")].content.decode()
    )
