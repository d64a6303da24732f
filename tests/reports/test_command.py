"""`manage.py weekly_report [--week YYYY-Www] [--format json|csv|text]`."""

import csv
import io
import json

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command

from apps.reports.models import WeeklyReport
from tests.reports.conftest import CSV_HEADER_LINE, jst

pytestmark = pytest.mark.django_db


@pytest.fixture
def week20(tokyo, team, history):
    """2026-W20: four MQLs (two webinar, two website), one qualified; one rejected for no budget."""
    history.mqls_of_week20(
        ["webinar", "webinar", "website", "website"],
        owner=team["rita"],
        accepted_at=jst(2026, 5, 12, 12),
        rejected_at=jst(2026, 5, 12, 18),
    )
    mail.outbox.clear()


def run(*args):
    out = io.StringIO()
    call_command("weekly_report", *args, stdout=out)
    return out.getvalue()


def test_json_prints_the_api_document_and_stores_the_week(week20):
    with time_machine.travel(jst(2026, 5, 18, 8), tick=False):
        document = json.loads(run("--week", "2026-W20", "--format", "json"))

    assert (document["week"], document["mqls"], document["mql_to_sql_rate"]) == (
        "2026-W20",
        4,
        0.25,
    )
    assert document["by_source"]["webinar"] == {"mqls": 2, "sqls": 1, "mql_to_sql_rate": 0.5}
    assert document["reject_reasons"] == {"no_budget": 1}
    assert WeeklyReport.objects.get().document == document
    assert mail.outbox == []  # printing never emails


def test_without_a_week_it_prints_last_week(week20):
    with time_machine.travel(jst(2026, 5, 20, 12), tick=False):
        document = json.loads(run("--format", "json"))

    assert document["week"] == "2026-W20"


def test_csv_prints_the_dashboard_columns_for_the_week(week20):
    with time_machine.travel(jst(2026, 5, 18, 8), tick=False):
        rows = list(csv.reader(io.StringIO(run("--week", "2026-W20", "--format", "csv"))))

    assert rows == [
        CSV_HEADER_LINE.split(","),
        # Answered in time: the one accepted and the one rejected (6 h after promotion).
        ["2026-W20", "4", "1", "0.25", "0", "0.0", "3.0", "3.0", "0.5", "0.5"],
    ]


def test_text_is_a_readable_summary(week20):
    with time_machine.travel(jst(2026, 5, 18, 8), tick=False):
        text = run("--week", "2026-W20")

    assert text.startswith("Weekly conversion report 2026-W20 (Mon 11 May 2026 – Sun 17 May 2026)")
    assert "MQL→SQL rate              25.0%" in text
    assert "webinar" in text and "no_budget" in text
    assert "Alerts:\n  none" in text


def test_the_current_week_is_printed_as_it_stands_and_not_stored(week20):
    with time_machine.travel(jst(2026, 5, 14, 12), tick=False):
        text = run("--week", "2026-W20")

    assert "week in progress, not stored" in text
    assert not WeeklyReport.objects.exists()


@pytest.mark.parametrize(
    "week, message",
    [
        ("2025-W53", "2025 has 52 weeks"),
        ("2026-47", "write it as YYYY-Www"),
        ("2026-W40", "has not started yet"),
    ],
)
def test_a_bad_week_is_a_clear_error(tokyo, week, message):
    with time_machine.travel(jst(2026, 5, 18, 8), tick=False):
        with pytest.raises(CommandError, match=message):
            run("--week", week)
