"""The MQL-criteria what-if: proposed criteria replayed over the last N weeks, nothing saved."""

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db.models import Min

from apps.criteria import rules
from apps.criteria.models import MQLCriteria
from apps.leads.models import Engagement, StageTransition
from apps.reports.weeks import IsoWeek
from apps.reports.whatif import criteria_whatif, first_qualifying_moments, preview_weeks
from tests.criteria.helpers import SPEC_POINTS, mql_criteria_form
from tests.factories import LeadFactory
from tests.reports.conftest import jst

DEFAULT_TABLE = rules.ScoringTable(points=SPEC_POINTS)
DEFAULT = rules.MQLRule()
T0 = dt.datetime(2026, 5, 11, 9, tzinfo=dt.UTC)


def at(hours):
    return T0 + dt.timedelta(hours=hours)


# --- the replay of one lead (pure) ------------------------------------------------------------------


def test_a_lead_qualifies_at_the_engagement_that_meets_every_criterion():
    history = [
        ("page_view", at(0)),
        ("pricing_page_view", at(1)),
        ("page_view", at(2)),
        ("demo_request", at(3)),
    ]

    # 1+3+1 = 5 after three engagements; the demo request makes it 13.
    assert first_qualifying_moments(
        history, table=DEFAULT_TABLE, fit="pass", criteria=[DEFAULT]
    ) == [at(3)]


def test_a_stricter_threshold_qualifies_the_lead_later_or_never():
    history = [
        ("pricing_page_view", at(0)),
        ("demo_request", at(1)),
        ("page_view", at(2)),
        ("quote_request", at(30)),
    ]
    stricter = rules.MQLRule(score_threshold=15)
    strictest = rules.MQLRule(score_threshold=20)

    assert first_qualifying_moments(
        history, table=DEFAULT_TABLE, fit="pass", criteria=[DEFAULT, stricter, strictest]
    ) == [at(2), at(30), None]


def test_fit_counts_only_when_the_criteria_require_it():
    history = [("pricing_page_view", at(0)), ("demo_request", at(1)), ("page_view", at(2))]
    fit_optional = rules.MQLRule(fit_required=False)

    assert first_qualifying_moments(
        history, table=DEFAULT_TABLE, fit="fail", criteria=[DEFAULT, fit_optional]
    ) == [None, at(2)]


def test_points_older_than_the_decay_window_count_as_decayed_at_each_moment():
    table = rules.ScoringTable(points=DEFAULT_TABLE.points, decay_after_days=30, decayed_percent=50)
    history = [
        ("demo_request", at(0)),
        ("quote_request", at(1)),
        ("pricing_page_view", at(24 * 40)),
        ("page_view", at(24 * 40 + 1)),
    ]

    moments = first_qualifying_moments(history, table=table, fit="pass", criteria=[DEFAULT])

    # 40 days on, the demo (8) and quote (5) count half: 4 + 2 + 3 + 1 = 10, the threshold.
    assert moments == [at(24 * 40 + 1)]
    assert rules.score_of(table, history, at(24 * 40 + 1)) == 10


def test_the_score_cap_applies_during_the_replay():
    table = rules.ScoringTable(points=DEFAULT_TABLE.points, cap=9)
    history = [("pricing_page_view", at(0)), ("demo_request", at(1)), ("page_view", at(2))]

    assert first_qualifying_moments(history, table=table, fit="pass", criteria=[DEFAULT]) == [None]


@pytest.mark.parametrize(
    "value, weeks", [("8", 8), ("40", 26), ("0", 1), ("-3", 1), ("abc", 8), (None, 8)]
)
def test_the_number_of_weeks_is_a_whole_number_from_1_to_26(value, weeks):
    assert preview_weeks(value) == weeks


# --- the what-if over the database ---------------------------------------------------------------


def engagements(lead, *kinds_at):
    for kind, moment in kinds_at:
        Engagement.objects.create(lead=lead, kind=kind, occurred_at=moment)


@pytest.mark.django_db
def test_mqls_are_counted_in_the_week_each_criteria_set_would_have_made_them(tokyo, team, history):
    now = jst(2026, 5, 20, 12)  # Wednesday of 2026-W21
    early = LeadFactory(email="early@example.com")  # 12 points in W20: an MQL under both
    engagements(
        early,
        ("pricing_page_view", jst(2026, 5, 12, 9)),
        ("demo_request", jst(2026, 5, 12, 10)),
        ("page_view", jst(2026, 5, 12, 11)),
    )
    history.promote_by_hand(early, jst(2026, 5, 12, 12), owner=team["rita"])
    history.step(early, "accept", jst(2026, 5, 12, 13))
    history.step(early, "qualify", jst(2026, 5, 13, 9))
    exactly_ten = LeadFactory(email="ten@example.com")  # 10 points in W21: only at threshold 10
    engagements(
        exactly_ten,
        ("pricing_page_view", jst(2026, 5, 18, 9)),
        ("quote_request", jst(2026, 5, 18, 10)),
        ("content_download", jst(2026, 5, 19, 9)),
    )
    long_ago = LeadFactory(email="old@example.com")  # an MQL in March, engaged again this week
    engagements(
        long_ago,
        ("pricing_page_view", jst(2026, 3, 2, 9)),
        ("demo_request", jst(2026, 3, 2, 10)),
        ("page_view", jst(2026, 3, 2, 11)),
        ("page_view", jst(2026, 5, 19, 9)),
    )
    future = LeadFactory(email="future@example.com")  # engagement dated after now: ignored
    engagements(
        future,
        ("pricing_page_view", jst(2026, 5, 19, 9)),
        ("demo_request", jst(2026, 5, 21, 9)),
        ("page_view", jst(2026, 5, 21, 10)),
    )

    result = criteria_whatif(
        proposed=rules.MQLRule(score_threshold=11), weeks=2, now=now, current=DEFAULT
    )

    rows = [
        (str(w.week), w.complete, w.current_mqls, w.current_sqls, w.proposed_mqls, w.proposed_sqls)
        for w in result.weeks
    ]
    assert rows == [("2026-W20", True, 1, 1, 1, 1), ("2026-W21", False, 1, 0, 0, 0)]
    assert (result.totals.current_mqls, result.totals.proposed_mqls, result.totals.mql_change) == (
        2,
        1,
        -1,
    )
    assert result.leads_replayed == 4


@pytest.fixture
def seeded(db):
    """The demo data, seeded and previewed on a Wednesday noon, far from any week boundary."""
    with time_machine.travel(dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC), tick=True):
        call_command("seed_demo", leads=80, verbosity=0)
        yield


def row_counts():
    counted = [
        model
        for label in ("leads", "criteria", "reports", "sla", "accounts")
        for model in apps.get_app_config(label).get_models()
    ]
    return {m._meta.label: m.objects.count() for m in counted} | {
        "admin.LogEntry": LogEntry.objects.count()
    }


@pytest.mark.django_db
def test_on_the_seed_data_a_threshold_of_20_instead_of_10_previews_fewer_mqls(seeded):
    current = MQLCriteria.objects.get(is_active=True)
    assert current.score_threshold == 10

    result = criteria_whatif(proposed=rules.MQLRule(score_threshold=20), weeks=8)

    assert result.totals.current_mqls > 0
    assert result.totals.proposed_mqls < result.totals.current_mqls
    assert all(w.proposed_mqls <= w.current_mqls for w in result.weeks)


@pytest.mark.django_db
def test_on_the_seed_data_the_current_criteria_replay_matches_the_real_promotions(seeded):
    result = criteria_whatif(proposed=rules.MQLRule(score_threshold=20), weeks=8)

    # Each lead's first promotion by the scoring engine (not by hand), by week.
    first_promotions = (
        StageTransition.objects.filter(transition="promote", criteria__isnull=False)
        .values("lead")
        .annotate(first=Min("at"))
        .values_list("first", flat=True)
    )
    actual = Counter(str(IsoWeek.containing(moment)) for moment in first_promotions)
    assert {str(w.week): w.current_mqls for w in result.weeks} == {
        str(w.week): actual[str(w.week)] for w in result.weeks
    }


def preview(client, url, **fields):
    return client.post(url, mql_criteria_form(_preview="1", **fields))


@pytest.mark.django_db
def test_preview_in_the_criteria_admin_shows_the_what_if_and_saves_nothing(seeded, admin_client):
    active = MQLCriteria.objects.get(is_active=True)
    url = f"/admin/criteria/mqlcriteria/{active.pk}/change/"
    before = row_counts()

    response = preview(admin_client, url, score_threshold="20", preview_weeks="8")

    assert response.status_code == 200
    assert row_counts() == before
    assert list(MQLCriteria.objects.values_list("version", "score_threshold", "is_active")) == [
        (1, 10, True)
    ]
    page = response.content.decode()
    assert "What-if: the last 8 weeks" in page
    assert (
        'name="score_threshold" value="20"' in page
    )  # the proposal stays in the form, ready to save
    whatif = response.context["whatif"]
    assert len(whatif.weeks) == 8
    assert whatif.proposed.score_threshold == 20 and whatif.current.score_threshold == 10
    assert whatif.totals.proposed_mqls < whatif.totals.current_mqls
    assert f'<td class="num" data-col="current-mqls">{whatif.totals.current_mqls}</td>' in page
    assert "fit as it is now" in page


@pytest.mark.django_db
def test_the_change_form_offers_the_preview_button(admin_client):
    active = MQLCriteria.objects.get(is_active=True)

    page = admin_client.get(f"/admin/criteria/mqlcriteria/{active.pk}/change/").content.decode()

    assert 'name="_preview"' in page
    assert 'name="preview_weeks"' in page and 'value="8"' in page


@pytest.mark.django_db
def test_a_proposal_with_errors_shows_them_and_no_preview(admin_client):
    active = MQLCriteria.objects.get(is_active=True)

    response = preview(
        admin_client, f"/admin/criteria/mqlcriteria/{active.pk}/change/", score_threshold="-1"
    )

    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert response.context["whatif"] is None
    assert MQLCriteria.objects.count() == 1


@pytest.mark.django_db
def test_preview_works_on_the_add_form_and_clamps_the_weeks(admin_client):
    with time_machine.travel(jst(2026, 5, 20, 12), tick=False):
        response = preview(admin_client, "/admin/criteria/mqlcriteria/add/", preview_weeks="40")

    assert response.status_code == 200
    assert len(response.context["whatif"].weeks) == 26
    assert MQLCriteria.objects.count() == 1


@pytest.mark.django_db
def test_saving_after_a_preview_still_publishes_the_new_version(admin_client):
    active = MQLCriteria.objects.get(is_active=True)
    url = f"/admin/criteria/mqlcriteria/{active.pk}/change/"
    preview(admin_client, url, score_threshold="20")

    response = admin_client.post(
        url, mql_criteria_form(score_threshold="20", note="Tighter", _save="Save")
    )

    assert response.status_code == 302
    assert MQLCriteria.objects.get(is_active=True).score_threshold == 20


@pytest.mark.django_db
def test_with_no_active_criteria_the_what_if_compares_with_the_defaults_and_publishes_none(db):
    MQLCriteria.objects.update(is_active=False)

    result = criteria_whatif(proposed=rules.MQLRule(score_threshold=20), weeks=1)

    assert result.current == rules.MQLRule()
    assert not MQLCriteria.objects.filter(is_active=True).exists()
