"""English and Japanese: from the browser, or the user's own choice saved on their account."""

import pytest
from django.urls import reverse

from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogue():
    """``make test`` compiles the catalogue first; a bare ``pytest`` run gets it compiled here."""
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = Path(settings.BASE_DIR, "locale", "ja", "LC_MESSAGES", "django.po")
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["ja"], ignore_patterns=[".venv"], verbosity=0)
        trans_real._translations = {}


def test_the_login_page_follows_the_browsers_language(client):
    assert (
        "Sign in to Leadflow"
        in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert (
        "Leadflow にログイン"
        in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5").content.decode()
    )


def test_the_inbox_reads_in_japanese_for_a_japanese_browser(client, rep, marketer, manager):
    walk_to(LeadFactory(source_id="webinar"), "mql", marketer=marketer, manager=manager)
    client.force_login(rep)

    body = client.get(reverse("leads:inbox"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "自分の受信箱" in body
    assert ">受諾</button>" in body and ">却下" in body
    assert "ウェビナー" in body  # the default source label, translated
    assert "Accept" not in body.split('<main class="page " id="main" tabindex="-1">')[1]


def test_a_users_saved_language_wins_over_the_browser(client, rep):
    client.force_login(rep)

    response = client.post(
        reverse("accounts:language"), {"language": "ja", "next": reverse("leads:inbox")}
    )

    assert response.status_code == 302 and response["Location"] == reverse("leads:inbox")
    rep.refresh_from_db()
    assert rep.language == "ja"
    client.cookies.clear()
    client.force_login(rep)
    assert (
        "自分の受信箱"
        in client.get(reverse("leads:inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_choosing_the_browser_language_clears_the_saved_choice(client, rep):
    rep.language = "ja"
    rep.save()
    client.force_login(rep)

    client.post(reverse("accounts:language"), {"language": ""})

    rep.refresh_from_db()
    assert rep.language == ""
    assert (
        "My inbox" in client.get(reverse("leads:inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_an_unsafe_next_address_is_ignored(client, rep):
    client.force_login(rep)

    response = client.post(
        reverse("accounts:language"), {"language": "en", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("home")


def test_the_japanese_catalogue_translates_every_message():
    import re
    from pathlib import Path

    from django.conf import settings

    po = Path(settings.BASE_DIR, "locale", "ja", "LC_MESSAGES", "django.po").read_text(
        encoding="utf-8"
    )
    untranslated = []
    for entry in po.split("\n\n")[1:]:  # the first block is the header
        if not entry.strip() or entry.lstrip().startswith("#~"):
            continue
        translation = "".join(re.findall(r'"(.*)"', entry[entry.index("msgstr") :]))
        if not translation or "#, fuzzy" in entry:
            untranslated.append(entry)
    assert untranslated == []
