"""Qualify names every failing BANT item in one answer, whatever else is wrong with the form."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.leads.models import Qualification
from apps.leads.services import TransitionInvalid
from apps.leads.transitions import TRANSITIONS
from tests.factories import LeadFactory
from tests.leads.helpers import QUALIFYING_BANT, walk_to

pytestmark = pytest.mark.django_db


def errors_of(data, *, at=None):
    with pytest.raises(TransitionInvalid) as invalid:
        TRANSITIONS["qualify"].clean({**QUALIFYING_BANT, **data}, at=at)
    return invalid.value.errors


def days_from_today(n):
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def test_a_blank_budget_does_not_hide_the_other_failures():
    errors = errors_of({"budget_amount": "", "authority": "user", "need": "", "timeline": ""})

    assert set(errors) == {"budget_amount", "authority", "need", "timeline"}
    assert (
        "User is not an authority level accepted for an SQL (accepted: Decision maker, Influencer)."
        in errors["authority"]
    )
    assert "The need must be stated." in errors["need"]


def test_malformed_fields_keep_their_own_message_and_the_rest_are_judged():
    errors = errors_of({"budget_amount": "lots", "timeline": "soon", "authority": "user"})

    assert set(errors) == {"budget_amount", "timeline", "authority"}
    assert errors["budget_amount"] == ["Enter a number."]
    assert errors["timeline"] == ["Enter a valid date."]


def test_a_budget_in_a_malformed_currency_is_not_also_judged_in_the_account_currency():
    errors = errors_of({"budget_currency": "EURO", "budget_amount": "500", "need": ""})

    assert set(errors) == {"budget_currency", "need"}


@pytest.mark.parametrize("timeline", ["0001-01-01", "yesterday"])
def test_a_decision_date_in_the_past_is_refused(timeline):
    value = days_from_today(-1) if timeline == "yesterday" else timeline

    errors = errors_of({"timeline": value})

    assert set(errors) == {"timeline"}
    assert "in the past" in errors["timeline"][0]


def test_the_timeline_is_judged_from_the_day_of_the_transition():
    a_year_ago = timezone.now() - dt.timedelta(days=365)
    then = (timezone.localdate(a_year_ago) + dt.timedelta(days=30)).isoformat()

    assert TRANSITIONS["qualify"].clean({**QUALIFYING_BANT, "timeline": then}, at=a_year_ago)
    assert "timeline" in errors_of({"timeline": then})


@pytest.mark.parametrize(
    "bant, named",
    [
        pytest.param(
            {"budget_amount": "500", "budget_currency": "USD", "timeline": days_from_today(400)},
            [
                "Budget 500.00 USD is below the minimum of 10,000.00 USD.",
                "later than 6 months from today",
                'value="500"',  # what the rep typed is kept
            ],
            id="a low budget and a late timeline",
        ),
        pytest.param(
            {"budget_amount": "", "timeline": days_from_today(-3)},
            ["Budget is required.", "in the past"],
            id="a blank budget and a past timeline",
        ),
    ],
)
def test_the_lead_page_names_every_failing_item_and_stores_nothing(
    client, rep, marketer, manager, bant, named
):
    lead = walk_to(LeadFactory(), "accepted", marketer=marketer, manager=manager)
    assert lead.owner == rep
    client.force_login(rep)

    response = client.post(
        reverse("leads:transition", args=[lead.pk, "qualify"]),
        {
            **QUALIFYING_BANT,
            "expected_stage": "accepted",
            "authority": "user",
            "need": "",
            **bant,
        },
    )

    assert response.status_code == 400
    body = response.content.decode()
    for failure in named:
        assert failure in body
    assert (
        "User is not an authority level accepted for an SQL (accepted: Decision maker, Influencer)."
        in body
    )
    assert "The need must be stated." in body
    lead.refresh_from_db()
    assert lead.stage == "accepted"
    assert not Qualification.objects.filter(lead=lead).exists()


def test_the_accepted_authority_levels_are_listed_the_japanese_way_in_japanese():
    from django.utils import translation

    with translation.override("ja"):
        errors = errors_of({"authority": "user"})

    assert "決裁者、影響者" in errors["authority"][0]
