import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.leads.models import Lead
from apps.leads.services import scores_recompute


class Command(BaseCommand):
    """Rebuild every lead's score, engagement counts and fit from its stored history.

    The nightly job does the same to apply decay; run this by hand after changing
    the scoring rules, or to repair scores. Leads are processed in batches, so
    memory stays flat whatever the number of leads.
    """

    help = "Recompute every lead's score (decay included), engagement counts and fit."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Leads rescored per transaction (default 5000).",
        )

    def handle(self, *args, batch_size: int, verbosity: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        with tqdm(
            total=Lead.objects.count(),
            desc="Rescoring leads",
            unit="lead",
            file=sys.stderr,
            disable=verbosity == 0,
        ) as progress:
            rescored = scores_recompute(batch_size=batch_size, progress=progress.update)
        self.stdout.write(f"Rescored {rescored} lead{'' if rescored == 1 else 's'}.")
