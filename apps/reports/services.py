"""Writes for the reports: storing each week's report once and emailing it once (SPEC §6).

Two builders racing on one week both compute, but the unique ``week`` column
lets exactly one INSERT in; the other reads that row back. The emails are
claimed with a conditional UPDATE of ``queued_at`` that writes one outbox row
per recipient in the same transaction, so however many copies of the weekly
task run, and however often, each recipient gets the report, at least once
and, short of a worker dying mid-send, exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from apps.accounts.emails import email_in_users_language
from apps.accounts.selectors import report_recipients
from apps.outbox.models import OutboxMessage
from apps.outbox.services import (
    NothingToDeliver,
    outbox_deliver,
    outbox_email_send,
    outbox_handler,
    outbox_put_many,
)
from apps.reports.alerts import CRITERIA_TOO_LOOSE, CRITERIA_TOO_STRICT
from apps.reports.models import LiveWeekReport, ReportSettings, WeeklyReport
from apps.reports.selectors import (
    CohortFilter,
    cohort_groups,
    localized_alerts,
    stored_reports,
    weekly_report_compute,
)
from apps.reports.weeks import IsoWeek, WeekWindow

logger = logging.getLogger(__name__)
CRITERIA_ALERTS = (CRITERIA_TOO_LOOSE, CRITERIA_TOO_STRICT)  # these link to the suggested criteria

# The dashboard shows the running week as it stood at most this long ago (give or take the
# few seconds a refresh takes); an older snapshot is shown once more while a worker refreshes it.
LIVE_REPORT_MAX_AGE = dt.timedelta(minutes=1)
# Older than this (no worker to refresh it, or nobody looked for a while), the request
# recomputes the week itself rather than show stale figures.
LIVE_REPORT_EXPIRES = dt.timedelta(minutes=15)
# A queued refresh that has not landed after this long is queued again.
LIVE_REFRESH_RETRY = dt.timedelta(minutes=5)


class ReportWeekError(ValueError):
    """A week the report cannot be made for; the message says why."""


@dataclass(frozen=True)
class WeeklySendResult:
    report: WeeklyReport
    created: bool
    emails_sent: int


def weekly_report_store(
    *, week: IsoWeek, now: dt.datetime | None = None
) -> tuple[WeeklyReport, bool]:
    """The stored report of complete ``week``, built (as of ``now``) and stored if missing.

    Returns (report, created). Only complete weeks are stored: a week still
    running would be frozen half-counted.
    """
    now = now or timezone.now()
    if not week.is_complete(now):
        raise ReportWeekError(
            f"{week} is not over yet (it ends {week.end.isoformat()}); only complete weeks are stored."
        )
    existing = WeeklyReport.objects.filter(week=str(week)).first()
    if existing is not None:
        return existing, False
    computed = weekly_report_compute(week=week, as_of=now)
    # When a concurrent builder's INSERT wins, get_or_create reads its row back instead.
    return WeeklyReport.objects.get_or_create(
        week=str(week),
        defaults={
            "document": computed.document,
            "as_of": computed.as_of,
            "thresholds": computed.thresholds,
            "previous_rate": computed.previous_rate,
        },
    )


def weekly_report_document(week: str, *, now: dt.datetime | None = None) -> dict:
    """The §6 document of ``week`` ("YYYY-Www"), as the API and ``weekly_report`` answer it.

    A complete week answers its stored report (built and stored on first
    request); the current week is computed live and not stored. Raises
    ``ReportWeekError`` (a ValueError) for a malformed, nonexistent or future week.
    """
    now = now or timezone.now()
    try:
        iso_week = IsoWeek.parse(week)
    except ValueError as exc:
        raise ReportWeekError(str(exc)) from None
    if iso_week.start > now:
        raise ReportWeekError(f"{iso_week} has not started yet.")
    if iso_week.is_complete(now):
        report, _created = weekly_report_store(week=iso_week, now=now)
        return report.document
    return weekly_report_compute(week=iso_week, as_of=now).document


#: Sent inside the transaction that queues a stored report's emails (once per report):
#: ``report`` goes out now, so whatever else announces it commits with its emails.
weekly_report_published = Signal()

#: The outbox kind of one recipient's copy of a weekly report.
WEEKLY_REPORT_EMAIL = "reports.weekly_report_email"


def weekly_report_email(*, report: WeeklyReport) -> int:
    """Queue ``report``'s emails once, then deliver them here; returns how many went out now.

    The conditional update of ``queued_at`` is the claim: a second caller (a
    rerun, or a copy running at the same moment) finds it taken and queues
    nothing. Emails that fail now stay in the outbox, which retries them.
    """
    with transaction.atomic():
        claimed = WeeklyReport.objects.filter(pk=report.pk, queued_at__isnull=True).update(
            queued_at=timezone.now()
        )
        if not claimed:
            return 0
        weekly_report_published.send(sender=WeeklyReport, report=report)
        messages = outbox_put_many(
            messages=[
                OutboxMessage(
                    kind=WEEKLY_REPORT_EMAIL,
                    key=f"weekly-report:{report.week}:{user.pk}",
                    payload={"report_id": report.pk, "recipient_id": user.pk},
                )
                for user in report_recipients()
            ],
            kick=False,  # delivered right below, by this worker
        )
    result = outbox_deliver(ids=[m.pk for m in messages])
    logger.info(
        "weekly report %s: %s email(s) sent, %s left to the outbox's retries",
        report.week,
        result.sent,
        result.retrying + result.failed,
    )
    return result.sent


@outbox_handler(WEEKLY_REPORT_EMAIL)
def weekly_report_email_send(message: OutboxMessage) -> None:
    """Email one recipient's copy of a stored report (the outbox claims, retries and marks it)."""
    report = WeeklyReport.objects.filter(pk=message.payload["report_id"]).first()
    recipient = (
        get_user_model()
        .objects.filter(pk=message.payload["recipient_id"], is_active=True)
        .exclude(email="")
        .first()
    )
    if report is None or recipient is None:
        raise NothingToDeliver("the report or an active recipient with an email address is gone")
    outbox_email_send(message, weekly_report_email_message(report=report, recipient=recipient))
    WeeklyReport.objects.filter(pk=report.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )


def weekly_report_send_last_week(*, now: dt.datetime | None = None) -> WeeklySendResult:
    """What the Monday job does: store last week's report (once) and email it (once)."""
    now = now or timezone.now()
    week = IsoWeek.containing(now).previous()
    report, created = weekly_report_store(week=week, now=now)
    sent = weekly_report_email(report=report)
    return WeeklySendResult(report=report, created=created, emails_sent=sent)


@dataclass(frozen=True)
class ReportWeek:
    """One week of the dashboard: its document and what its alerts were computed from."""

    week: IsoWeek
    document: dict
    complete: bool
    previous_rate: Decimal | None
    thresholds: dict
    as_of: dt.datetime | None = None


def live_week_report(*, week: IsoWeek, now: dt.datetime) -> ReportWeek:
    """The running ``week`` as the dashboard shows it: counted at most a minute or so ago.

    Reads the stored snapshot (one query). A snapshot over ``LIVE_REPORT_MAX_AGE`` old
    is shown while a background task recomputes it (queued once, however many readers);
    with none, or one over ``LIVE_REPORT_EXPIRES`` old, the week is computed here.
    """
    snapshot = LiveWeekReport.objects.filter(week=str(week)).first()
    if snapshot is None or not now - LIVE_REPORT_EXPIRES < snapshot.as_of <= now:
        return live_week_report_refresh(week=week, now=now)
    if snapshot.as_of < now - LIVE_REPORT_MAX_AGE:
        queued = (
            LiveWeekReport.objects.filter(pk=snapshot.pk)
            .filter(
                Q(refresh_queued_at__isnull=True)
                | Q(refresh_queued_at__lt=now - LIVE_REFRESH_RETRY)
                | Q(refresh_queued_at__gt=now)
            )
            .update(refresh_queued_at=now)
        )
        if queued:
            transaction.on_commit(partial(_queue_live_refresh, str(week)))
    return ReportWeek(
        week,
        snapshot.document,
        False,
        snapshot.previous_rate,
        snapshot.thresholds,
        as_of=snapshot.as_of,
    )


def _queue_live_refresh(week: str) -> None:
    from apps.reports.tasks import live_week_report_refresh_task

    try:
        live_week_report_refresh_task.delay(week)
    except Exception:
        # No broker: the snapshot is recomputed by a request once it expires.
        logger.exception("could not queue the refresh of the running week %s", week)


def live_week_report_refresh(*, week: IsoWeek, now: dt.datetime | None = None) -> ReportWeek:
    """Count the running ``week`` as of ``now`` and store it as the dashboard's snapshot.

    A snapshot is only ever replaced by a later one, so a slow refresh cannot undo a
    quicker one that started after it.
    """
    now = now or timezone.now()
    computed = weekly_report_compute(week=week, as_of=now)
    values = {
        "document": computed.document,
        "as_of": computed.as_of,
        "thresholds": computed.thresholds,
        "previous_rate": computed.previous_rate,
        "refresh_queued_at": None,
    }
    replaced = LiveWeekReport.objects.filter(week=str(week), as_of__lt=computed.as_of).update(
        **values
    )
    if not replaced:
        LiveWeekReport.objects.get_or_create(week=str(week), defaults=values)
    return ReportWeek(
        week,
        computed.document,
        False,
        computed.previous_rate,
        computed.thresholds,
        as_of=computed.as_of,
    )


def weekly_reports_for(weeks: list[IsoWeek], *, now: dt.datetime) -> list[ReportWeek]:
    """The reports of ``weeks`` (oldest first; none after the current one).

    Complete weeks come from their stored reports (one query); a complete week
    not stored yet is built and stored on the way, as the Monday job would have.
    """
    stored = stored_reports(weeks)
    rows = []
    for week in weeks:
        if week.is_complete(now):
            report = stored.get(str(week)) or weekly_report_store(week=week, now=now)[0]
            rows.append(
                ReportWeek(
                    week,
                    report.document,
                    True,
                    report.previous_rate,
                    report.thresholds,
                    as_of=report.as_of,
                )
            )
        else:
            rows.append(live_week_report(week=week, now=now))
    return rows


def weekly_reports_filtered(
    weeks: list[IsoWeek], *, now: dt.datetime, cohort: CohortFilter
) -> list[ReportWeek]:
    """The reports of ``weeks`` for one rep, source or criteria version, counted now (never stored).

    The same builder as the stored reports, its queries narrowed by ``cohort``: five
    queries a week, whatever the number of leads.
    """
    thresholds = ReportSettings.load().thresholds()
    rows = []
    for week in weeks:
        computed = weekly_report_compute(week=week, as_of=now, thresholds=thresholds, cohort=cohort)
        rows.append(
            ReportWeek(
                week,
                computed.document,
                week.is_complete(now),
                computed.previous_rate,
                computed.thresholds,
                as_of=now,
            )
        )
    return rows


def window_groups(
    *, window: WeekWindow, now: dt.datetime, cohort: CohortFilter
) -> tuple[list[dict], dt.datetime]:
    """(the cohort groups of ``window``'s MQLs, each counted once; when they were counted).

    What the dashboard's per-source, per-rep and per-version tables add up. One query, kept
    in the cache for ``LIVE_REPORT_MAX_AGE`` like the running week's snapshot, so reloads
    within the minute do not count the weeks again (the links then use that moment).
    """
    key = "reports:window-groups:" + "|".join(
        (str(window.first), str(window.last), cohort.owner, cohort.source, cohort.criteria)
    )
    cached = cache.get(key)
    # Fresh for the minute after the count was done, not after it began: at a million leads
    # counting eight weeks can take longer than the minute, and every load would count again.
    if cached is not None and cached[1] <= now and now - LIVE_REPORT_MAX_AGE <= cached[2]:
        return cached[:2]
    groups = cohort_groups(window, now, cohort)
    cache.set(key, (groups, now, timezone.now()), LIVE_REPORT_MAX_AGE.total_seconds())
    return groups, now


def dashboard_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("reports:dashboard")


def suggestions_url(week: str, *, absolute: bool = True) -> str:
    """The suggested criteria for the 12 weeks ending with ``week`` (what a criteria alert links to)."""
    path = f"{reverse('reports:suggestions')}?{urlencode({'to': week})}"
    return settings.SITE_URL.rstrip("/") + path if absolute else path


def criteria_alert_raised(alerts) -> bool:
    """Does a report's alert say the criteria are too loose or too strict?"""
    return any(alert["code"] in CRITERIA_ALERTS for alert in alerts)


def weekly_report_email_message(*, report: WeeklyReport, recipient) -> EmailMultiAlternatives:
    """The report's email for ``recipient``, in their language: HTML with a text part."""
    document = report.document
    return email_in_users_language(
        recipient=recipient,
        templates="reports",
        context=lambda: {
            "report": report,
            "doc": document,
            "url": dashboard_url(),
            "suggestions_url": suggestions_url(report.week)
            if criteria_alert_raised(document["alerts"])
            else None,
            "week": IsoWeek.parse(report.week),
            "alerts": localized_alerts(
                rate=document["mql_to_sql_rate"],
                previous_rate=report.previous_rate,
                thresholds=report.thresholds,
            ),
        },
    )
