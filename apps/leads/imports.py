"""Leads from outside: the intake rule shared by the API, ``import_leads`` and the admin import.

Every door that brings a lead in from another system validates it with the
same rules (``LeadRowForm`` here, ``LeadIntakeSerializer`` in the API with the
same validators and messages) and writes it with ``lead_intake``, which goes
through ``services.lead_upsert`` so the fit is always computed.

A CSV import reads the file twice, streaming, never holding more than one batch:
a check pass that finds every bad row (and the file's encoding) before anything
is written, then a write pass that commits one batch per transaction. A bad file
is therefore refused whole unless the caller skips its invalid rows, and a write
pass cut short can simply be run again: rows are upserted by email.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.criteria.models import LeadSource
from apps.leads.models import Lead
from apps.leads.services import lead_upsert

#: The CSV columns (and API fields) of a lead, in the order the README lists them.
LEAD_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "phone",
    "employees",
    "industry",
    "country",
    "source",
    "campaign",
)
#: Where a lead first came from; a later form fill or import never rewrites them.
FIRST_TOUCH_FIELDS = frozenset({"source", "campaign"})
#: The source of an imported row that names none.
DEFAULT_IMPORT_SOURCE = "import"
#: Encodings a CSV may come in, tried in this order (cp932 is Excel's Shift_JIS).
CSV_ENCODINGS = ("utf-8-sig", "cp932")
#: Rejected rows listed one by one in a summary; past this only counted.
REJECTIONS_LISTED = 10_000

country_code_validator = RegexValidator(
    r"^[A-Za-z]{2}$", gettext_lazy("Use a two-letter ISO 3166 country code, e.g. JP.")
)


def active_source_codes() -> list[str]:
    return list(
        LeadSource.objects.filter(is_active=True)
        .order_by("position", "code")
        .values_list("code", flat=True)
    )


def unknown_source_message(code: str, active: Iterable[str]) -> str:
    return _("'%(code)s' is not an active lead source; use one of: %(codes)s.") % {
        "code": code,
        "codes": ", ".join(active),
    }


def lead_intake(
    *, email: str, values: Mapping[str, Any], exists: bool | None = None
) -> tuple[Lead, bool]:
    """Create the lead ``email``, or merge ``values`` into it; returns (lead, created).

    The merge keeps what a sending system cannot know: a blank or missing value
    never erases a stored one, and ``source`` and ``campaign`` keep the first
    touch. Everything else that is sent replaces the stored value, so sending
    the same data twice changes nothing (idempotent). Two requests creating the
    same email at once both succeed: the loser of the insert retries as an update.
    ``exists`` saves a query when the caller already looked the email up.
    """
    email = email.strip().lower()
    given = {key: value for key, value in values.items() if value is not None and value != ""}
    if exists is None:
        exists = Lead.objects.filter(email=email).exists()
    try:
        return lead_upsert(email=email, values=_merge(given, exists=exists))
    except IntegrityError:
        if exists:
            raise
        # Another request inserted this email between our read and our insert: now it is an update.
        return lead_upsert(email=email, values=_merge(given, exists=True))


def _merge(given: Mapping[str, Any], *, exists: bool) -> dict[str, Any]:
    return {
        key: value for key, value in given.items() if not (exists and key in FIRST_TOUCH_FIELDS)
    }


# --- validation of one row ---------------------------------------------------------


class LeadRowForm(forms.Form):
    """One lead as a CSV row or admin-import row carries it: every value a string."""

    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    company = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=150, required=False)
    phone = forms.CharField(max_length=50, required=False)
    employees = forms.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    industry = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=2, required=False, validators=[country_code_validator])
    source = forms.CharField(max_length=40, required=False)
    campaign = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, active_sources: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.active_sources = active_sources

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if len(email) > 254:  # a few capitals lower-case into two characters
            raise forms.ValidationError(_("Ensure this value has at most 254 characters."))
        return email

    def clean_country(self):
        return self.cleaned_data["country"].upper()

    def clean_source(self):
        code = self.cleaned_data["source"].strip().lower() or DEFAULT_IMPORT_SOURCE
        if code not in self.active_sources:
            raise forms.ValidationError(unknown_source_message(code, self.active_sources))
        return code


def lead_row_clean(
    row: Mapping[str, Any], *, active_sources: list[str]
) -> tuple[dict | None, dict[str, list[str]]]:
    """(the row's lead values, None) or (None, {column: [message]}) for one import row."""
    data = {}
    for column in LEAD_COLUMNS:
        value = row.get(column)
        value = "" if value is None else str(value).strip()
        if column == "employees":
            # Spreadsheets write 1,200 or 1 200; the number is the same.
            value = value.replace(",", "").replace(" ", "").replace("\u00a0", "")
        data[column] = value
    form = LeadRowForm(data=data, active_sources=active_sources)
    if not form.is_valid():
        return None, {key: [str(m) for m in messages] for key, messages in form.errors.items()}
    return dict(form.cleaned_data), {}


def describe_errors(errors: Mapping[str, list[str]]) -> str:
    """{'email': ['Enter a valid email address.']} -> 'email: Enter a valid email address.'"""
    return "; ".join(
        f"{key}: {' '.join(messages)}" if key != "__all__" else " ".join(messages)
        for key, messages in errors.items()
    )


# --- reading CSV files ---------------------------------------------------------------


class ImportFileError(Exception):
    """The file as a whole cannot be imported (encoding, header); the message says why."""


def normalize_column(name: str) -> str:
    """'First Name ' -> 'first_name', so spreadsheet headings match the columns."""
    return "_".join((name or "").strip().lower().replace("-", " ").split())


def csv_encoding_of(chunks: Callable[[], Iterable[bytes]]) -> str:
    """The first of ``CSV_ENCODINGS`` that decodes every byte ``chunks()`` yields.

    ``chunks`` is called once per encoding tried, so a file is streamed, never
    held whole. NUL bytes mean UTF-16 or a binary file, which Shift_JIS would
    otherwise decode into nonsense.
    """
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in chunks():
                if b"\x00" in chunk:
                    raise UnicodeDecodeError(
                        encoding, chunk, chunk.index(b"\x00"), chunk.index(b"\x00") + 1, "NUL"
                    )
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError(
        _("The file is neither UTF-8 nor Shift_JIS text; save it as CSV UTF-8 and try again.")
    )


def csv_bytes_as_utf8(data: bytes) -> bytes:
    """``data`` re-encoded as UTF-8 when it is Shift_JIS; unchanged when UTF-8 or undecodable."""
    try:
        encoding = csv_encoding_of(lambda: [data])
    except ImportFileError:
        return data
    return data if encoding == "utf-8-sig" else data.decode(encoding).encode("utf-8")


@dataclass
class CsvRow:
    line: int
    values: dict[str, str]
    problem: str = ""


@dataclass
class CsvLayout:
    columns: list[str]
    ignored: list[str]


def read_csv_header(reader) -> CsvLayout:
    header = next(reader, None)
    if header is None:
        raise ImportFileError(_("The file is empty; its first row must name the columns."))
    columns = [normalize_column(name) for name in header]
    if "email" not in columns:
        raise ImportFileError(
            _("The first row must name the columns, one of them email; it reads: %(header)s")
            % {"header": ", ".join(header)[:300]}
        )
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise ImportFileError(
            _("The header names a column twice: %(columns)s.") % {"columns": ", ".join(repeated)}
        )
    return CsvLayout(columns=columns, ignored=[c for c in columns if c not in LEAD_COLUMNS])


def read_csv_rows(text: io.TextIOBase) -> tuple[CsvLayout, Iterator[CsvRow]]:
    """The header, and an iterator over the data rows, each with the line it starts on."""
    reader = csv.reader(text)
    try:
        layout = read_csv_header(reader)
    except csv.Error as exc:
        raise ImportFileError(
            _("line %(line)s: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from exc

    def rows() -> Iterator[CsvRow]:
        last_line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(
                    _("line %(line)s: %(error)s") % {"line": reader.line_num, "error": exc}
                ) from exc
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and the empty rows spreadsheets leave at the end
            problem = ""
            if len(cells) > len(layout.columns):
                problem = _(
                    "the row has %(cells)s cells but the header names %(columns)s columns"
                ) % {"cells": len(cells), "columns": len(layout.columns)}
            # A short row leaves its last columns blank.
            values = {
                col: cell
                for col, cell in zip(layout.columns, cells, strict=False)
                if col in LEAD_COLUMNS
            }
            yield CsvRow(line=line, values=values, problem=problem)

    return layout, rows()


# --- importing a file ---------------------------------------------------------------


@dataclass
class RowRejection:
    line: int
    reason: str

    def __str__(self):
        return _("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportSummary:
    encoding: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[RowRejection] = field(default_factory=list)
    written: bool = False

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < REJECTIONS_LISTED:
            self.rejections.append(RowRejection(line=line, reason=reason))

    @property
    def unlisted_rejections(self) -> int:
        return self.rejected - len(self.rejections)


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def leads_import_csv(
    *,
    path: str | Path,
    skip_invalid: bool = False,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Callable[[str, int | None], Any] | None = None,
) -> ImportSummary:
    """Import the leads of the CSV file ``path``; returns what happened.

    Check pass: detect the encoding, read the header, validate every row and
    count what would be created, updated or merged. Without ``skip_invalid``,
    any bad row stops the import there, with nothing written. Write pass
    (unless ``dry_run``): each valid row through ``lead_intake``, one
    transaction per ``batch_size`` rows. A row whose email appeared earlier in
    the file is merged into that lead (the later row's non-blank values win).
    ``progress(description, total)`` returns a bar with ``update(n)`` and ``close()``.
    """
    path = Path(path)
    progress = progress or (lambda description, total: _NoProgress())

    def chunks():
        with path.open("rb") as raw:
            yield from iter(lambda: raw.read(1 << 20), b"")

    summary = ImportSummary(encoding=csv_encoding_of(chunks))
    active_sources = active_source_codes()

    plan = _check_pass(path, summary, active_sources, batch_size, progress)
    if dry_run or (summary.rejected and not skip_invalid):
        summary.created, summary.updated, summary.duplicates = plan
        return summary

    _write_pass(path, summary, active_sources, batch_size, progress, valid_rows=sum(plan))
    summary.written = True
    return summary


def _open_rows(path: Path, encoding: str):
    text = path.open("r", encoding=encoding, newline="")
    layout, rows = read_csv_rows(text)
    return text, layout, rows


def _valid_rows(
    rows: Iterable[CsvRow], active_sources: list[str], on_invalid: Callable[[int, str], None]
):
    for row in rows:
        if row.problem:
            on_invalid(row.line, row.problem)
            continue
        values, errors = lead_row_clean(row.values, active_sources=active_sources)
        if errors:
            on_invalid(row.line, describe_errors(errors))
            continue
        yield row.line, values


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_pass(path, summary, active_sources, batch_size, progress) -> tuple[int, int, int]:
    """Validate every row; returns the planned (created, updated, duplicates)."""
    created = updated = duplicates = 0
    seen: set[str] = set()
    text, layout, rows = _open_rows(path, summary.encoding)
    summary.ignored_columns = layout.ignored
    bar = progress(_("Checking rows"), None)
    try:
        counted = _count_rows(rows, summary, bar)
        for batch in _batches(_valid_rows(counted, active_sources, summary.reject), batch_size):
            emails = {values["email"] for _line, values in batch} - seen
            stored = set(Lead.objects.filter(email__in=emails).values_list("email", flat=True))
            for _line, values in batch:
                email = values["email"]
                if email in seen:
                    duplicates += 1
                    continue
                seen.add(email)
                if email in stored:
                    updated += 1
                else:
                    created += 1
    finally:
        bar.close()
        text.close()
    return created, updated, duplicates


def _count_rows(rows: Iterable[CsvRow], summary: ImportSummary, bar) -> Iterator[CsvRow]:
    for row in rows:
        summary.rows += 1
        bar.update(1)
        yield row


def _write_pass(path, summary, active_sources, batch_size, progress, *, valid_rows: int) -> None:
    seen: set[str] = set()
    text, _layout, rows = _open_rows(path, summary.encoding)
    bar = progress(_("Importing leads"), valid_rows)
    try:
        # Rows already reported by the check pass are passed over silently here.
        for batch in _batches(
            _valid_rows(rows, active_sources, lambda line, reason: None), batch_size
        ):
            stored = set(
                Lead.objects.filter(email__in={v["email"] for _l, v in batch}).values_list(
                    "email", flat=True
                )
            )
            with transaction.atomic():
                for _line, values in batch:
                    email = values.pop("email")
                    _lead, created = lead_intake(
                        email=email, values=values, exists=email in stored or email in seen
                    )
                    if email in seen:
                        summary.duplicates += 1
                    elif created:
                        summary.created += 1
                    else:
                        summary.updated += 1
                    seen.add(email)
            bar.update(len(batch))
    finally:
        bar.close()
        text.close()
