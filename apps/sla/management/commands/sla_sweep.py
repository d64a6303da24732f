import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.sla.services import notification_emails_deliver_due, sla_sweep


class Command(BaseCommand):
    """Run the SLA sweep in this process, notifications included, as the periodic job does.

    ``--now`` makes it act as if the clock read that time (to replay a window
    that was missed, or to rehearse one): every reminder and breach due by then
    is sent, each once, however often the command runs.
    """

    help = "Send the SLA reminders and breaches due now (or at --now), each exactly once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", help="ISO 8601 time to sweep at, e.g. 2026-11-23T09:00:00+09:00."
        )

    def handle(self, *args, now=None, **options):
        at = timezone.now()
        if now:
            try:
                at = dt.datetime.fromisoformat(now)
            except ValueError as exc:
                raise CommandError(f"--now: '{now}' is not an ISO 8601 time ({exc}).") from exc
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        result = sla_sweep(now=at)
        sent = notification_emails_deliver_due()
        events = ", ".join(f"{kind}: {n}" for kind, n in sorted(result.events.items())) or "none"
        self.stdout.write(
            f"Swept at {at.isoformat()}: {result.leads_checked} lead(s) due, events {events}, "
            f"{result.reassigned} reassigned, {len(result.notifications)} notification(s), "
            f"{sent} email(s) sent."
        )
