"""Messages after an action: in the page's flow, each with a close button named in the reader's language."""

import re

import pytest
from django.urls import reverse

from apps.leads.services import lead_transition
from tests.leads.test_ui_inbox import mql_owned_by

pytestmark = pytest.mark.django_db


def flashes(body):
    return re.findall(r'<div class="flash flash-(\w+)">(.*?)</div>', body, re.S)


@pytest.mark.parametrize(
    ("language", "label"), [("en", "Dismiss this message"), ("ja", "このメッセージを閉じる")]
)
def test_a_done_message_has_a_close_button_labelled_in_the_readers_language(
    client, rep, marketer, manager, language, label
):
    lead = mql_owned_by(rep, marketer=marketer, manager=manager, company="Kumo Co")
    client.force_login(rep)
    response = client.post(
        reverse("leads:transition", args=[lead.pk, "accept"]),
        {"expected_stage": "mql", "next": reverse("leads:inbox")},
        follow=True,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    [(level, inner)] = flashes(response.content.decode())
    assert level == "success"
    assert 'class="flash-text"' in inner
    assert f'<button type="button" class="flash-close js-only" aria-label="{label}">' in inner
    # The label the script gives the messages it draws itself, in the same words.
    assert f'data-t-dismiss="{label}"' in response.content.decode()


def test_the_messages_box_is_in_the_flow_not_pinned_over_the_content():
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/leadflow.css"), encoding="utf-8").read()
    rule = re.search(r"\.messages \{([^}]*)\}", css).group(1)
    assert "sticky" not in rule and "fixed" not in rule and "absolute" not in rule


def test_a_page_without_messages_has_an_empty_box(client, rep, marketer, manager):
    # ".messages:not(:empty)" gives the box its margin: no stray whitespace in it.
    client.force_login(rep)
    body = client.get(reverse("leads:inbox")).content.decode()
    assert '<div id="messages" class="messages" role="status" aria-live="polite"></div>' in body


def test_a_new_message_replaces_the_old_one_in_a_later_htmx_answer(client, rep, marketer, manager):
    first = mql_owned_by(rep, marketer=marketer, manager=manager, company="First Co")
    second = mql_owned_by(rep, marketer=marketer, manager=manager, company="Second Co")
    client.force_login(rep)

    def accept(lead):
        answer = client.post(
            reverse("leads:transition", args=[lead.pk, "accept"]),
            {"expected_stage": "mql", "next": reverse("leads:inbox")},
            follow=True,
            HTTP_HX_REQUEST="true",
        )
        return [level for level, _ in flashes(answer.content.decode())]

    assert accept(first) == ["success"]
    lead_transition(lead=second.pk, name="accept", actor=rep)
    # The answer's #messages (swapped in out of band) holds the new message only.
    assert accept(second) == ["warning"]
