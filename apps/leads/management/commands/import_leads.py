import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.leads.imports import LEAD_COLUMNS, ImportFileError, leads_import_csv


class Command(BaseCommand):
    """Import leads from a CSV file: create new emails, update known ones.

    The file is checked whole before anything is written: without
    ``--skip-invalid`` one bad row means nothing is imported and the command
    fails, listing every bad line with its reason. UTF-8 (with or without BOM)
    and Shift_JIS files are read as they are.
    """

    help = (
        "Import leads from a CSV file with a header row naming the columns "
        f"({', '.join(LEAD_COLUMNS)}); email is required. Rows are matched by email."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8, UTF-8 with BOM, or Shift_JIS).")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows and report the invalid ones, instead of importing nothing.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would happen; write nothing.",
        )
        parser.add_argument(
            "--encoding",
            help="The file's encoding (e.g. utf-8, cp932, latin-1). Default: detect UTF-8 or "
            "Shift_JIS, refusing a file that could be either.",
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )

    def handle(
        self, *args, file, skip_invalid, dry_run, batch_size, encoding, verbosity, **options
    ):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")

        def progress(description, total):
            return tqdm(
                desc=description, total=total, unit="row", file=sys.stderr, disable=verbosity == 0
            )

        try:
            summary = leads_import_csv(
                path=file,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=progress,
                encoding=encoding,
            )
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {file}") from exc
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc} Nothing was imported.") from exc

        if summary.ignored_columns:
            self.stderr.write(
                f"Ignored columns (not lead fields): {', '.join(summary.ignored_columns)}"
            )
        for rejection in summary.rejections:
            self.stderr.write(f"Rejected {rejection}")
        if summary.unlisted_rejections:
            self.stderr.write(f"… and {summary.unlisted_rejections} more rejected rows.")

        counts = (
            f"created {summary.created}, updated {summary.updated}, "
            f"merged {summary.duplicates} repeated email{'' if summary.duplicates == 1 else 's'}, "
            f"rejected {summary.rejected}"
        )
        if summary.written:
            self.stdout.write(f"Imported {file} ({summary.encoding}): {counts}.")
        elif dry_run and not (summary.rejected and not skip_invalid):
            self.stdout.write(
                f"Dry run of {file} ({summary.encoding}), nothing written: would have {counts}."
            )
        else:
            raise CommandError(
                f"Nothing was imported: {summary.rejected} of {summary.rows} rows are invalid (listed above). "
                "Fix them, or run again with --skip-invalid to import the valid rows."
            )
