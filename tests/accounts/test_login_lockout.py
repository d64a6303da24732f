"""Login throttling (SPEC §8): a username + address locked after repeated failures, on both login pages."""

import datetime as dt
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # what UserFactory sets
LOGIN_PAGES = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


def attempt(client, page, username, password, address="203.0.113.7", **headers):
    return client.post(
        page, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def signed_in(client) -> bool:
    return client.session.get("_auth_user_id") is not None


def fail_until_locked(client, page, username, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = attempt(client, page, username, "wrong")
        assert response.status_code == 200  # the form again, with its error
    return attempt(client, page, username, "wrong")


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_after_five_failures_even_the_right_password_is_refused_with_429(
    client, ada, settings, page
):
    assert settings.AXES_FAILURE_LIMIT == 5
    with time_machine.travel(timezone.now(), tick=False):
        locked = fail_until_locked(client, page, "ada", settings)
        right = attempt(client, page, "ada", PASSWORD)

    assert locked.status_code == 429
    assert right.status_code == 429 and not signed_in(client)
    body = right.content.decode()
    assert "Too many failed sign-in attempts" in body
    assert "Try again in 15 minutes" in body
    assert right["Retry-After"] == str(15 * 60)


def test_the_lock_on_one_page_holds_on_the_other(client, ada, settings):
    fail_until_locked(client, "/accounts/login/", "ada", settings)
    assert attempt(client, "/admin/login/", "ada", PASSWORD).status_code == 429
    assert not signed_in(client)


def test_the_page_says_how_long_is_left_not_the_full_wait_again(client, ada, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_until_locked(client, "/accounts/login/", "ada", settings)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        later = attempt(client, "/accounts/login/", "ada", PASSWORD)
    assert later.status_code == 429
    assert "Try again in 5 minutes" in later.content.decode()
    assert later["Retry-After"] == "300"


def test_after_the_wait_the_right_password_works(client, ada, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_until_locked(client, "/accounts/login/", "ada", settings)
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        response = attempt(client, "/accounts/login/", "ada", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_an_unknown_username_gets_exactly_the_answers_a_known_one_gets(ada, settings):
    def answers(username):
        client = Client()
        responses = [attempt(client, "/accounts/login/", username, "wrong") for _ in range(6)]
        # The pages differ only in the values of their fields (CSRF token, the username typed).
        return [
            (r.status_code, re.sub(r'(value="|"X-CSRFToken": ")[^"]*"', "", r.content.decode()))
            for r in responses
        ]

    with time_machine.travel(timezone.now(), tick=False):
        known, unknown = answers("ada"), answers("nosuchuser")
    assert [status for status, _ in known] == [200, 200, 200, 200, 429, 429]
    assert known == unknown


def test_the_lock_is_for_that_username_from_that_address_only(client, ada, settings):
    UserFactory(username="bea")
    fail_until_locked(client, "/accounts/login/", "ada", settings)

    others = Client()
    assert attempt(others, "/accounts/login/", "bea", PASSWORD).status_code == 302  # same address
    elsewhere = Client()
    response = attempt(elsewhere, "/accounts/login/", "ada", PASSWORD, address="198.51.100.9")
    assert response.status_code == 302 and signed_in(elsewhere)


def test_a_success_before_the_limit_starts_the_count_again(client, ada, settings):
    for _ in range(4):
        attempt(client, "/accounts/login/", "ada", "wrong")
    assert attempt(client, "/accounts/login/", "ada", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "/accounts/login/", "ada", "wrong").status_code == 200


def test_the_lockout_page_speaks_japanese(client, ada, settings):
    fail_until_locked(client, "/accounts/login/", "ada", settings)
    response = attempt(
        client, "/accounts/login/", "ada", PASSWORD, HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5"
    )
    assert response.status_code == 429
    body = response.content.decode()
    assert "15 分後" in body and "Too many" not in body


def test_an_admin_lifts_the_lock_in_the_admin(client, ada, settings):
    rita = UserFactory(username="rita", roles=["sales"])
    locked_out = Client()
    fail_until_locked(locked_out, "/accounts/login/", "rita", settings)
    attempt_row = AccessAttempt.objects.get(username="rita")

    client.force_login(ada)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "rita" in listing.content.decode()
    client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt_row.pk], "post": "yes"},
    )

    assert not AccessAttempt.objects.filter(username="rita").exists()
    response = attempt(locked_out, "/accounts/login/", "rita", PASSWORD)
    assert response.status_code == 302 and locked_out.session["_auth_user_id"] == str(rita.pk)
