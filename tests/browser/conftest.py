"""Playwright driving Debian's chromium against pytest-django's live server.

Playwright's sync API runs an asyncio loop in the test's thread; Django's
async-safety guard would then refuse the ORM calls the tests make to set up
data, so it is told that this is deliberate (DJANGO_ALLOW_ASYNC_UNSAFE), for
as long as the browser module runs and no longer: a leaked variable would
fail ``check --deploy`` in later tests.
"""

import os
from pathlib import Path

import pytest

from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-for-tests-only"  # tests.factories.UserFactory's


@pytest.fixture(scope="module")
def browser(django_db_setup):
    if not Path(CHROMIUM).exists():
        message = f"no chromium at {CHROMIUM} (set CHROMIUM_PATH; .ci/run installs Debian's)"
        if os.environ.get("LEADFLOW_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # With an event loop running in the thread, Django keys its connections by
    # context instead of by thread: the tests get fresh connection objects, which
    # lack the snapshot serialized_rollback restores the migrations' rows from.
    snapshots = {c.alias: getattr(c, "_test_serialized_contents", None) for c in connections.all()}
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            for alias, contents in snapshots.items():
                if contents is not None:
                    connections[alias]._test_serialized_contents = contents
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="session")
def plain_http_server_settings():
    """The live server builds its middleware once, at start: plain HTTP must be on by then.

    (tests/conftest.py turns the HTTPS redirect off per test, which is too late
    for ``SecurityMiddleware`` inside a session-wide server.)
    """
    from django.test.utils import override_settings

    with override_settings(
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False
    ):
        yield


@pytest.fixture(scope="session")
def live_server(plain_http_server_settings, live_server):
    return live_server


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogue():
    """``make test`` compiles the translations first; a bare ``pytest`` run gets them compiled here."""
    from django.conf import settings
    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = Path(settings.BASE_DIR, "locale", "ja", "LC_MESSAGES", "django.po")
    mo = po.with_suffix(".mo")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        call_command("compilemessages", locale=["ja"], ignore_patterns=[".venv"], verbosity=0)
        trans_real._translations = {}


@pytest.fixture
def open_page(browser, live_server):
    """open_page(locale=..., width=..., javascript=..., **context options) -> a fresh page in its own context."""
    contexts = []

    def open_(*, locale="en-US", width=1280, javascript=True, **options):
        context = browser.new_context(
            **options,
            base_url=live_server.url,
            locale=locale,
            viewport={"width": width, "height": 900},
            java_script_enabled=javascript,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, suffix="") saves a full-page PNG named after the test under the run's output folder."""
    folder = Path(os.environ.get("LEADFLOW_TEST_OUTPUT", "test-results")) / "screenshots"

    def take(page, suffix=""):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{request.node.name}{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def oscar_away(team):
    """Oscar is away, taking no new leads: every MQL of the story goes to Rita."""
    team["oscar"].accepts_new_leads = False
    team["oscar"].save(update_fields=["accepts_new_leads"])


def ritas_mql(team, **profile):
    """A new lead walked to MQL, which round-robin gives to Rita (with ``oscar_away``)."""
    lead = walk_to(
        LeadFactory(**profile), "mql", marketer=team["marketer"], manager=team["manager"]
    )
    assert lead.owner == team["rep"]
    return lead


def log_in(page, username, password=PASSWORD):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
