"""Lead imports started from the UI (issue 12): upload, dry-run preview, confirm, progress.

The file is streamed to ``LEADFLOW_IMPORT_DIR`` (never held in memory) and a Celery
task runs ``imports.leads_import_csv`` on it, the same service as ``import_leads``,
recording its progress on the ``LeadImport`` row the page polls. A preview is a dry run;
confirming it starts a write of the same file. Runs are claimed with a conditional
update, so a task delivered twice imports once.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.leads.imports import (
    CSV_HEAD_BYTES,
    ImportFileError,
    ImportSummary,
    csv_head_check,
    leads_import_csv,
)
from apps.leads.models import LeadImport

logger = logging.getLogger(__name__)

#: Rejected rows a preview lists one by one (the rest are counted).
REJECTIONS_SHOWN = 200
#: The progress row is written at most this often (seconds).
PROGRESS_EVERY = 0.5


class ImportRefused(Exception):
    """The upload or the confirmation cannot go ahead; the message says why (a 4xx)."""


def lead_import_start(*, user, upload, skip_invalid: bool = False) -> LeadImport:
    """Store ``upload`` (a Django ``UploadedFile``) and queue its dry-run preview.

    Refused (``ImportRefused``, nothing kept) when empty, too large, or when its first
    bytes show it cannot be imported: binary, not UTF-8 or Shift_JIS, no usable header.
    """
    limit = settings.LEADFLOW_IMPORT_MAX_BYTES
    if upload.size == 0:
        raise ImportRefused(_("The file is empty."))
    if upload.size > limit:
        raise ImportRefused(
            _("The file is larger than %(limit)s MB; split it and import the parts.")
            % {"limit": limit // (1024 * 1024)}
        )
    folder = Path(settings.LEADFLOW_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    # A file that cannot be imported at all is refused now; its rows are the preview's to check.
    with path.open("rb") as stored:
        head = stored.read(CSV_HEAD_BYTES)
    try:
        csv_head_check(head, whole=len(head) >= upload.size)
    except ImportFileError as exc:
        path.unlink(missing_ok=True)
        raise ImportRefused(str(exc)) from None
    job = LeadImport.objects.create(
        created_by=user,
        file_name=Path(upload.name or "leads.csv").name[:255],
        path=str(path),
        size=upload.size,
        dry_run=True,
        skip_invalid=skip_invalid,
    )
    _queue(job, language=translation.get_language())
    return job


def lead_import_confirm(*, preview: LeadImport, user, skip_invalid: bool) -> LeadImport:
    """Write the leads ``preview`` checked; refused when it failed, found bad rows to keep, or ran."""
    with transaction.atomic():
        preview = LeadImport.objects.select_for_update().get(pk=preview.pk)
        if not preview.dry_run or preview.state != LeadImport.State.DONE:
            raise ImportRefused(_("Only a finished preview can be imported."))
        if preview.confirmations.exists():
            raise ImportRefused(_("This file was imported already."))
        if preview.summary.get("rejected") and not skip_invalid:
            raise ImportRefused(
                _("Some rows are invalid: fix the file, or tick “Skip the invalid rows”.")
            )
        job = LeadImport.objects.create(
            created_by=user,
            file_name=preview.file_name,
            path=preview.path,
            size=preview.size,
            dry_run=False,
            skip_invalid=skip_invalid,
            preview=preview,
        )
        _queue(job, language=translation.get_language())
    return job


def _queue(job: LeadImport, *, language: str | None) -> None:
    transaction.on_commit(partial(_send_task, job.pk, language))


def _send_task(pk: int, language: str | None) -> None:
    from apps.leads.tasks import lead_import_task

    try:
        lead_import_task.apply_async((pk, language), retry=False)
    except Exception as exc:  # the broker is away: the page says it waits for a worker
        logger.warning("lead import %s not queued: %s", pk, exc)


class _Progress:
    """The bar ``leads_import_csv`` drives, written to the job's row now and then."""

    def __init__(self, job_id: int, description: str, total: int | None, *, estimate=None):
        # The check pass cannot know its total before it has read the file: the page shows
        # ``estimate`` (the file's lines), so a preview too has a percentage.
        self.job_id, self.done, self.last = job_id, 0, 0.0
        LeadImport.objects.filter(pk=job_id).update(
            phase=str(description)[:100],
            total_rows=total if total is not None else estimate,
            done_rows=0,
        )

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            LeadImport.objects.filter(pk=self.job_id).update(done_rows=self.done)

    def close(self) -> None:
        LeadImport.objects.filter(pk=self.job_id).update(done_rows=self.done)


def import_language(job: LeadImport, language: str | None = None) -> str:
    """The language a job words its messages in: the page's that started it, else its user's.

    The worker has no request: the reasons of rejected rows, the failure and the phase
    titles are stored as text, so they are written in the language of the person who reads
    them (the one who uploaded), as ``accounts.emails`` words an email for its recipient.
    """
    languages = {code for code, _name in settings.LANGUAGES}
    for candidate in (language, job.created_by.language):
        if candidate and candidate in languages:
            return candidate
    return settings.LANGUAGE_CODE


def lead_import_run(*, job_id: int, language: str | None = None) -> LeadImport | None:
    """Run the import ``job_id`` once (a second delivery finds it claimed and does nothing).

    ``language`` is the one the upload or confirmation was made in (see ``import_language``).
    """
    claimed = LeadImport.objects.filter(pk=job_id, state=LeadImport.State.QUEUED).update(
        state=LeadImport.State.RUNNING
    )
    if not claimed:
        return None
    job = LeadImport.objects.select_related("created_by", "preview").get(pk=job_id)
    with translation.override(import_language(job, language)):
        _run(job)
    if not job.dry_run:
        # The write is the file's last use (its preview is done): nothing keeps it any longer.
        Path(job.path).unlink(missing_ok=True)
    job.refresh_from_db()
    return job


def _run(job: LeadImport) -> None:
    try:
        summary = leads_import_csv(
            path=job.path,
            dry_run=job.dry_run,
            skip_invalid=job.skip_invalid,
            progress=partial(_Progress, job.pk, estimate=_rows_to_check(job)),
        )
    except (ImportFileError, FileNotFoundError, UnicodeError) as exc:
        message = str(exc) if isinstance(exc, ImportFileError) else _("The file cannot be read.")
        LeadImport.objects.filter(pk=job.pk).update(
            state=LeadImport.State.FAILED, error=message, finished_at=timezone.now()
        )
    else:
        LeadImport.objects.filter(pk=job.pk).update(
            state=LeadImport.State.DONE,
            summary=summary_as_dict(summary),
            finished_at=timezone.now(),
        )


def _rows_to_check(job: LeadImport) -> int | None:
    # An import's preview counted the file's rows; a preview can only estimate them.
    if job.preview_id and job.preview.summary.get("rows"):
        return job.preview.summary["rows"]
    return rows_estimate(job.path)


def rows_estimate(path: str | Path) -> int | None:
    """The data rows of a CSV file, about: its lines less the header (a value may span lines).

    Counting line breaks streams the file once, far faster than parsing it.
    """
    lines, last = 0, b"\n"
    with Path(path).open("rb") as raw:
        for chunk in iter(lambda: raw.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without its line break
    return max(lines - 1, 0) or None


def summary_as_dict(summary: ImportSummary) -> dict:
    return {
        "encoding": summary.encoding,
        "ignored_columns": list(summary.ignored_columns),
        "rows": summary.rows,
        "created": summary.created,
        "updated": summary.updated,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
        "rejections": [
            {"line": r.line, "reason": r.reason} for r in summary.rejections[:REJECTIONS_SHOWN]
        ],
        "written": summary.written,
        "plan": [asdict(row) for row in summary.plan],
    }
