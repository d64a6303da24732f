"""The running week on the dashboard: counted at most a minute or so ago, never on every load."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.reports.models import LiveWeekReport
from apps.reports.services import LIVE_REPORT_EXPIRES, live_week_report_refresh
from apps.reports.weeks import IsoWeek
from tests.reports.conftest import jst

pytestmark = pytest.mark.django_db

WEDNESDAY = jst(2026, 5, 20, 12)  # in 2026-W21
THIS_WEEK = IsoWeek(2026, 21)


@pytest.fixture
def clock(tokyo):
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        yield traveller


def mqls_this_week(client):
    response = client.get("/reports/")
    current = response.context["weeks"][-1]
    assert (current.week, current.complete) == (THIS_WEEK, False)
    return current.document["mqls"], response.content.decode()


def promote(history, team, n, at):
    for i in range(n):
        history.promote_by_hand(history.lead(), at + dt.timedelta(minutes=i), owner=team["rita"])


def test_the_page_says_how_fresh_this_weeks_figures_are(client, team, clock, history):
    promote(history, team, 2, jst(2026, 5, 19, 9))
    client.force_login(team["maya"])

    mqls, body = mqls_this_week(client)

    assert mqls == 2
    assert 'data-testid="live-as-of">This week\'s figures are as of 12:00;' in body
    assert LiveWeekReport.objects.get(week="2026-W21").document["mqls"] == 2


def test_a_reload_within_the_minute_reads_the_snapshot_instead_of_counting_again(
    client, team, clock, history
):
    client.force_login(team["maya"])
    client.get("/reports/")
    promote(history, team, 3, jst(2026, 5, 19, 9))
    clock.shift(dt.timedelta(seconds=50))

    with CaptureQueriesContext(connection) as queries:
        mqls, _body = mqls_this_week(client)

    assert mqls == 0  # as of the first load, 50 seconds ago
    assert not [q for q in queries.captured_queries if "leads_stagetransition" in q["sql"]]


def test_a_stale_snapshot_is_shown_once_more_while_one_refresh_is_queued(
    client, team, clock, history, django_capture_on_commit_callbacks
):
    client.force_login(team["maya"])
    client.get("/reports/")
    promote(history, team, 3, jst(2026, 5, 19, 9))
    clock.shift(dt.timedelta(minutes=2))

    with django_capture_on_commit_callbacks() as queued:
        first, _ = mqls_this_week(client)
        second, _ = mqls_this_week(client)  # a second reader queues nothing more

    assert (first, second) == (0, 0)
    assert len(queued) == 1
    queued[0]()  # the worker's refresh (tasks run inline in tests)
    assert mqls_this_week(client)[0] == 3


def test_a_snapshot_nobody_refreshed_is_not_shown_once_it_expires(client, team, clock, history):
    client.force_login(team["maya"])
    client.get("/reports/")  # the refresh this load queues never runs (no worker)
    promote(history, team, 1, jst(2026, 5, 19, 9))
    clock.shift(LIVE_REPORT_EXPIRES + dt.timedelta(seconds=1))

    assert mqls_this_week(client)[0] == 1


def test_an_older_count_never_replaces_a_newer_snapshot(team, clock, history):
    promote(history, team, 1, jst(2026, 5, 19, 9))
    live_week_report_refresh(week=THIS_WEEK, now=WEDNESDAY)
    live_week_report_refresh(week=THIS_WEEK, now=WEDNESDAY - dt.timedelta(days=1))

    snapshot = LiveWeekReport.objects.get(week="2026-W21")
    assert (snapshot.as_of, snapshot.document["mqls"]) == (WEDNESDAY, 1)


def test_the_csv_reads_the_same_snapshot(client, team, clock, history):
    client.force_login(team["mona"])
    client.get("/reports/")
    promote(history, team, 2, jst(2026, 5, 19, 9))

    rows = client.get("/reports/weekly.csv").content.decode().strip().splitlines()

    assert rows[-1].startswith("2026-W21,0,")


def test_weeks_that_take_longer_than_the_minute_to_count_are_not_counted_again_at_once(
    client, team, clock, history, monkeypatch
):
    """At a million leads the split of eight weeks by source, rep and version can take over
    a minute to count: it stays for the minute after the count, so the next load reads it."""
    from apps.reports import services

    counted = []

    def slow_count(*args, **kwargs):
        counted.append(args)
        groups = cohort_groups(*args, **kwargs)
        clock.shift(dt.timedelta(minutes=2))  # the count took two minutes
        return groups

    cohort_groups = services.cohort_groups
    monkeypatch.setattr(services, "cohort_groups", slow_count)
    promote(history, team, 2, jst(2026, 5, 19, 9))
    client.force_login(team["maya"])

    client.get("/reports/")
    clock.shift(dt.timedelta(seconds=30))
    client.get("/reports/")

    assert len(counted) == 1
    clock.shift(dt.timedelta(minutes=1))
    client.get("/reports/")  # a minute and a half after the count: counted afresh
    assert len(counted) == 2
