import csv
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.reports.selectors import CSV_COLUMNS, report_csv_row
from apps.reports.services import ReportWeekError, weekly_report_document
from apps.reports.weeks import IsoWeek


class Command(BaseCommand):
    """Print one week's conversion report (SPEC §6), building and storing it if needed.

    Without ``--week``: last week. A complete week answers its stored report
    (built and stored now if the Monday job has not run); the current week is
    computed as it stands and not stored. Printing never emails anyone: the
    Monday job does that, once.
    """

    help = "Print the weekly conversion report of an ISO week (default: last week) as text, JSON or CSV."

    def add_arguments(self, parser):
        parser.add_argument(
            "--week", help="ISO week, e.g. 2026-W47 (default: last week, in the site's time zone)."
        )
        parser.add_argument(
            "--format",
            choices=["text", "json", "csv"],
            default="text",
            help="text (default): a readable summary; json: the API's document; "
            "csv: a header and the week's row, the columns of the dashboard's CSV.",
        )

    def handle(self, *args, week=None, format="text", **options):
        week = week or str(IsoWeek.current().previous())
        try:
            document = weekly_report_document(week)
        except ReportWeekError as exc:
            raise CommandError(str(exc)) from None
        if format == "json":
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
        elif format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            writer.writerow(report_csv_row(document))
        else:
            self.stdout.write(
                report_text(document, complete=IsoWeek.parse(week).is_complete(timezone.now()))
            )


def _percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _hours(value) -> str:
    return "—" if value is None else f"{value:g} h"


def report_text(document: dict, *, complete: bool = True) -> str:
    """A plain-text summary of a report document, for the terminal."""
    week = IsoWeek.parse(document["week"])
    hours = document["response_time_hours"]
    lines = [
        f"Weekly conversion report {week} ({week.monday:%a %d %b %Y} – {week.sunday:%a %d %b %Y})"
        + ("" if complete else " — week in progress, not stored"),
        "",
        f"  MQLs                      {document['mqls']}",
        f"  MQL→SQL rate              {_percent(document['mql_to_sql_rate'])}"
        "  (share of the week's MQLs that reached SQL)",
        f"  SQLs (of these MQLs)      {document['sqls']}",
        f"  Opportunities             {document['opportunities']}"
        f"  (SQL→opportunity {_percent(document['sql_to_opportunity_rate'])})",
        f"  Response time             median {_hours(hours['median'])}, p90 {_hours(hours['p90'])}",
        f"  Accepted in time          {_percent(document['sla']['accepted_in_time_rate'])}",
        f"  Processed in time         {_percent(document['sla']['processed_in_time_rate'])}",
    ]
    splits = (
        ("By source", "by_source"),
        ("By owner", "by_owner"),
        ("By criteria version", "by_criteria_version"),
    )
    for title, key in splits:
        if document[key]:
            lines += ["", f"{title}:"]
            lines += [
                f"  {name:<24}{seg['mqls']:>5} MQLs {seg['sqls']:>5} reached SQL  {_percent(seg['mql_to_sql_rate'])}"
                for name, seg in document[key].items()
            ]
    if document["reject_reasons"]:
        lines += ["", "Reject reasons:"] + [
            f"  {code:<24}{n:>5}" for code, n in document["reject_reasons"].items()
        ]
    lines += ["", "Alerts:"] + ([f"  ! {a['message']}" for a in document["alerts"]] or ["  none"])
    return "\n".join(lines)
