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
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, RegexValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.criteria.models import LeadSource
from apps.leads.models import Lead, email_normalize
from apps.leads.services import (
    lead_upsert,
    leads_created,
    leads_fit_refresh,
    leads_promote_if_meeting,
)

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
#: Rows whose fate a check pass lists one by one (the preview's row-by-row table), from
#: the top of the file; past this only counted, so memory stays bounded whatever the size.
PLAN_ROWS_LISTED = 200
#: What an import does with a row: a new lead, an update of the stored lead with its email,
#: a merge into the lead of an earlier row with the same email, or nothing (the row is invalid).
CREATE, UPDATE, MERGE, REJECT = "create", "update", "merge", "reject"
ROW_ACTIONS = (CREATE, UPDATE, MERGE, REJECT)
#: The columns an update may change: a stored lead keeps its first touch (source, campaign).
UPDATABLE_COLUMNS = tuple(c for c in LEAD_COLUMNS if c != "email" and c not in FIRST_TOUCH_FIELDS)
#: A value shown in the row-by-row table is cut to this length (a rejected row may hold anything).
PLAN_TEXT_MAX = 120

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
    email = email_normalize(email)
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
    """The rules of a lead from outside, for every door: CSV rows, the admin import, the API.

    The API's ``LeadIntakeSerializer`` checks only the JSON types and hands the
    values to this form, so the rules and their messages are these. A CSV row
    may leave ``source`` blank (it defaults to ``import``); the API must name
    it (``source_required``).
    """

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

    def __init__(self, *args, active_sources: list[str], source_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.active_sources = active_sources
        self.fields["source"].required = source_required

    def clean_email(self):
        email = email_normalize(self.cleaned_data["email"])
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
    quick = _row_quick(data, active_sources)
    if quick is not None:
        return quick, {}
    form = LeadRowForm(data=data, active_sources=active_sources)
    if not form.is_valid():
        return None, {key: [str(m) for m in messages] for key, messages in form.errors.items()}
    return dict(form.cleaned_data), {}


_TEXT_LIMITS = {
    name: LeadRowForm.base_fields[name].max_length
    for name in LEAD_COLUMNS
    if name not in ("email", "employees", "country", "source")
}
_email_valid = EmailValidator()


def _row_quick(data: Mapping[str, str], active_sources: list[str]) -> dict | None:
    """The cleaned values of a row that certainly passes ``LeadRowForm``; None to ask the form.

    The usual row is checked here without a form instance; anything unusual
    goes through the form, so the messages are the form's own.
    """
    email = data["email"]
    if not email or len(email) > 254 or "\x00" in email:
        return None
    try:
        _email_valid(email)
    except ValidationError:
        return None
    values = {"email": email_normalize(email)}
    if len(values["email"]) > 254:
        return None
    for name, limit in _TEXT_LIMITS.items():
        value = data[name]
        if len(value) > limit or "\x00" in value:
            return None
        values[name] = value
    employees = data["employees"]
    if employees:
        if not (employees.isascii() and employees.isdigit()) or int(employees) > 2_147_483_647:
            return None
        values["employees"] = int(employees)
    else:
        values["employees"] = None
    country = data["country"]
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        return None
    values["country"] = country.upper()
    source = data["source"].lower() or DEFAULT_IMPORT_SOURCE
    if source not in active_sources:
        return None
    values["source"] = source
    return {name: values[name] for name in LEAD_COLUMNS}


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


def csv_encoding_of(chunks: Callable[[], Iterable[bytes]], *, declared: str | None = None) -> str:
    """The encoding of the bytes ``chunks()`` yields: ``declared``, or detected.

    Detected: the first of ``CSV_ENCODINGS`` that decodes every byte, and for
    Shift_JIS only with confidence: a Latin-1 file often decodes as cp932 too
    ("Renée" as "Ren馥"), so a file without any kana whose double-byte
    characters sit inside Latin words is refused as ambiguous; the user names
    the encoding instead. ``chunks`` is called once per encoding tried, so a
    file is streamed, never held whole. NUL bytes mean UTF-16 or a binary file.
    """
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise ImportFileError(
                _("'%(encoding)s' is not an encoding Python knows; try utf-8, cp932 or latin-1.")
                % {"encoding": declared}
            ) from None
        if not _decodes(chunks, name):
            raise ImportFileError(
                _("The file is not valid %(encoding)s text; check the encoding you named.")
                % {"encoding": declared}
            )
        return "utf-8-sig" if name == "utf-8" else name
    for encoding in CSV_ENCODINGS:
        evidence = _Cp932Evidence() if encoding == "cp932" else None
        if not _decodes(chunks, encoding, evidence):
            continue
        if evidence is not None and not evidence.confident:
            raise ImportFileError(
                _(
                    "The file is not UTF-8, and reading it as Shift_JIS gives unlikely text "
                    "(it may be Latin-1 or Windows-1252); name its encoding "
                    "(import_leads --encoding latin-1, or save it as CSV UTF-8) and try again."
                )
            )
        return encoding
    raise ImportFileError(
        _("The file is neither UTF-8 nor Shift_JIS text; save it as CSV UTF-8 and try again.")
    )


class _Cp932Evidence:
    """What a cp932 reading looks like: kana (Japanese), or characters glued to Latin letters."""

    KANA = re.compile("[\u3040-\u30ff]")
    GLUED = re.compile("(?<=[A-Za-z])[^\x00-\x7f]")

    def __init__(self):
        self.kana = False
        self.glued = False

    def see(self, text: str) -> None:
        if not self.kana and self.KANA.search(text):
            self.kana = True
        if not self.glued:
            for match in self.GLUED.finditer(text):
                raw = match.group().encode("cp932")
                # Latin-1 accented letter + ASCII letter reads as one double-byte character
                # whose second byte is that letter; a lone one reads as half-width katakana.
                if len(raw) == 1 or chr(raw[-1]).isascii() and chr(raw[-1]).isalpha():
                    self.glued = True
                    break

    @property
    def confident(self) -> bool:
        return self.kana or not self.glued


def _decodes(chunks, encoding: str, evidence: _Cp932Evidence | None = None) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in chunks():
            if b"\x00" in chunk:
                return False
            text = decoder.decode(chunk)
            if evidence is not None:
                evidence.see(text)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


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


#: The first bytes of a file checked as it is uploaded: enough for the header row.
CSV_HEAD_BYTES = 16 * 1024
#: Separators a spreadsheet may have used instead of commas, as a sentence names them.
OTHER_DELIMITERS = {
    ";": gettext_lazy("semicolons (;)"),
    "\t": gettext_lazy("tabs"),
}


def csv_head_check(head: bytes, *, whole: bool) -> None:
    """Refuse at once a file whose first bytes ``head`` show it cannot be imported.

    Cheap enough for an upload: binary content (NUL bytes), then the import's own
    encoding detection (``csv_encoding_of``) and header rule (``read_csv_header``)
    on the first lines only; a header that fails and reads as if separated by
    semicolons or tabs says so. ``whole`` says ``head`` is the whole file; when it is
    not, it is cut after its last line break (in UTF-8 and Shift_JIS a newline byte is
    never part of another character), and a Shift_JIS reading that only the rest of
    the file can confirm is left to the import. Raises ``ImportFileError``.
    """
    if b"\x00" in head:
        raise ImportFileError(
            _(
                "The file holds binary data, not text: it is not a CSV file (a spreadsheet "
                "or an image?). Save it as CSV UTF-8 and try again."
            )
        )
    if not whole:
        cut = head.rfind(b"\n")
        if cut < 0:
            return  # one line longer than the head: the import reads it whole
        head = head[: cut + 1]
    try:
        encoding = csv_encoding_of(lambda: [head])
    except ImportFileError:
        if not _decodes(lambda: [head], "cp932"):
            raise
        if whole:  # worded for the upload form, where no encoding can be named
            raise ImportFileError(
                _(
                    "The file is not UTF-8, and reading it as Shift_JIS gives unlikely text "
                    "(it may be Windows-1252 or Latin-1); save it as CSV UTF-8 and try again."
                )
            ) from None
        encoding = "cp932"  # no kana yet: the whole file decides
    text = head.decode(encoding)
    try:
        read_csv_rows(io.StringIO(text, newline=""))
    except ImportFileError:
        first_line = text.lstrip("\ufeff").partition("\n")[0]
        for delimiter, name in OTHER_DELIMITERS.items():
            if first_line.count(delimiter) > first_line.count(","):
                raise ImportFileError(
                    _(
                        "The columns are separated by %(separator)s, not commas; save the "
                        "file as CSV (comma delimited) and try again."
                    )
                    % {"separator": name}
                ) from None
        raise


#: A line break followed by a comma inside one value: the rows after an unterminated quote.
_SWALLOWED_ROW = re.compile(r"[\r\n][^\r\n]*,")


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
            if last_line > line and any(_SWALLOWED_ROW.search(cell) for cell in cells):
                # A value may run over lines, but not over a line of cells: a quote left open
                # has swallowed the rows after it.
                raise ImportFileError(
                    _(
                        "line %(line)s: a quoted value runs over several lines of cells; "
                        "a closing quote is probably missing."
                    )
                    % {"line": line}
                )
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
class PlannedRow:
    """What the import does with one row of the file (``action`` is one of ``ROW_ACTIONS``)."""

    line: int
    email: str
    name: str
    company: str
    action: str = ""
    reason: str = ""  # why a rejected row is rejected
    changes: list[str] = field(default_factory=list)  # the columns an update changes
    merged_into: int | None = None  # a merged row: the line whose lead it merges into


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
    #: The first ``PLAN_ROWS_LISTED`` rows of the file, each with its action, in file order.
    plan: list[PlannedRow] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < REJECTIONS_LISTED:
            self.rejections.append(RowRejection(line=line, reason=reason))

    @property
    def unlisted_rejections(self) -> int:
        return self.rejected - len(self.rejections)


class _RowPlanner:
    """Writes ``summary.plan``: the fate of the file's first ``limit`` rows, as a check pass reads them.

    A rejected row and a repeated email are known as they are read. Whether a row
    creates a lead or updates a stored one (and which columns it changes) is asked
    once, by ``settle``, for the listed rows only, before anything is written. The
    rows are listed from the top, so a listed repeat's first row is listed too.
    """

    def __init__(self, summary: ImportSummary, limit: int = PLAN_ROWS_LISTED):
        self.summary, self.limit = summary, limit
        self.first_line: dict[str, int] = {}
        self.given: dict[int, dict[str, Any]] = {}

    def invalid(self, row: CsvRow, reason: str) -> None:
        self.summary.reject(row.line, reason)
        if len(self.summary.plan) < self.limit:
            self.summary.plan.append(
                _planned_row(row.line, row.values, action=REJECT, reason=reason)
            )

    def watch(self, valid: Iterable[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
        """The valid rows, passed on unchanged, the first ones noted on the way."""
        valid, plan = iter(valid), self.summary.plan
        for line, values in valid:
            if len(plan) >= self.limit:
                yield line, values
                yield from valid  # the list is full: the rest pass untouched
                return
            row = _planned_row(line, values)
            first = self.first_line.setdefault(values["email"], line)
            if first != line:
                row.action, row.merged_into = MERGE, first
            else:
                self.given[line] = {c: values[c] for c in UPDATABLE_COLUMNS}
            plan.append(row)
            yield line, values

    def settle(self) -> None:
        """Each listed row not yet decided: a new lead, or an update saying what it changes."""
        pending = [row for row in self.summary.plan if not row.action]
        if not pending:
            return
        stored = {
            lead["email"]: lead
            for lead in Lead.objects.filter(email__in={row.email for row in pending}).values(
                "email", *UPDATABLE_COLUMNS
            )
        }
        for row in pending:
            lead, given = stored.get(row.email), self.given.pop(row.line)
            if lead is None:
                row.action = CREATE
            else:
                # A blank never erases a stored value (``lead_intake``): only what is given counts.
                row.action = UPDATE
                row.changes = [
                    column
                    for column, value in given.items()
                    if value not in (None, "") and value != lead[column]
                ]


def _planned_row(line: int, values: Mapping[str, Any], **fields) -> PlannedRow:
    def text(*columns) -> str:
        joined = " ".join(str(values.get(c) or "").strip() for c in columns).strip()
        return joined[:PLAN_TEXT_MAX]

    return PlannedRow(
        line=line,
        email=text("email"),
        name=text("first_name", "last_name"),
        company=text("company"),
        **fields,
    )


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
    encoding: str | None = None,
) -> ImportSummary:
    """Import the leads of the CSV file ``path``; returns what happened.

    Check pass: detect the encoding, read the header, validate every row and
    count what would be created, updated or merged; the first ``PLAN_ROWS_LISTED``
    rows are listed with what happens to each (``summary.plan``). Without ``skip_invalid``,
    any bad row stops the import there, with nothing written. Write pass
    (unless ``dry_run``): each valid row through ``lead_intake``, one
    transaction per ``batch_size`` rows. A row whose email appeared earlier in
    the file is merged into that lead (the later row's non-blank values win).
    ``progress(description, total)`` returns a bar with ``update(n)`` and ``close()``.
    ``encoding`` names the file's encoding; by default it is detected (UTF-8 or
    Shift_JIS), and a file that could be either is refused.

    On PostgreSQL one pass streams the valid rows into a temporary table with
    ``COPY`` and one transaction merges them with set-based SQL
    (``_import_staged``): the same rules, all or nothing.
    """
    path = Path(path)
    progress = progress or (lambda description, total: _NoProgress())

    def chunks():
        with path.open("rb") as raw:
            yield from iter(lambda: raw.read(1 << 20), b"")

    summary = ImportSummary(encoding=csv_encoding_of(chunks, declared=encoding))
    active_sources = active_source_codes()
    run = _import_staged if connection.vendor == "postgresql" else _import_rowwise
    return run(
        path,
        summary,
        active_sources,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        batch_size=batch_size,
        progress=progress,
    )


def _import_rowwise(path, summary, active_sources, *, skip_invalid, dry_run, batch_size, progress):
    """Any database: a check pass, then a write pass of one transaction per batch."""
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
    rows: Iterable[CsvRow], active_sources: list[str], on_invalid: Callable[[CsvRow, str], None]
):
    for row in rows:
        if row.problem:
            on_invalid(row, row.problem)
            continue
        values, errors = lead_row_clean(row.values, active_sources=active_sources)
        if errors:
            on_invalid(row, describe_errors(errors))
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


@contextmanager
def _checked_rows(path, summary, active_sources, progress) -> Iterator[Iterator[tuple[int, dict]]]:
    """The file's valid rows as (line, values); the check pass's counts, rejections and plan.

    The plan is settled when the block ends without an error.
    """
    planner = _RowPlanner(summary)
    text, layout, rows = _open_rows(path, summary.encoding)
    summary.ignored_columns = layout.ignored
    bar = progress(_("Checking rows"), None)
    try:
        counted = _count_rows(rows, summary, bar)
        yield planner.watch(_valid_rows(counted, active_sources, planner.invalid))
    finally:
        bar.close()
        text.close()
    planner.settle()


def _check_pass(path, summary, active_sources, batch_size, progress) -> tuple[int, int, int]:
    """Validate every row; returns the planned (created, updated, duplicates)."""
    created = updated = duplicates = 0
    seen: set[str] = set()
    with _checked_rows(path, summary, active_sources, progress) as valid:
        for batch in _batches(valid, batch_size):
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
            _valid_rows(rows, active_sources, lambda row, reason: None), batch_size
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


# --- PostgreSQL: COPY into a temporary table, merge with set-based SQL ----------------

_TEXT_COLUMNS = [c for c in LEAD_COLUMNS if c != "employees"]
#: Rows staged per COPY statement: memory stays bounded, checks run between statements.
COPY_BATCH_ROWS = 5000


def _import_staged(path, summary, active_sources, *, skip_invalid, dry_run, batch_size, progress):
    """Stage the valid rows with COPY, then merge them into the leads in one transaction.

    The merge keeps ``lead_intake``'s rules: per email, the later row's
    non-blank values win; a blank never erases a stored value; ``source`` and
    ``campaign`` keep the first touch (the first row of a new email, the stored
    lead's otherwise). The fit of every touched lead is then refreshed and the
    new leads that now meet the MQL criteria are promoted.
    """
    columns = ", ".join(LEAD_COLUMNS)
    with connection.cursor() as cursor:
        # The check pass and the counts run outside the merge's transaction, so the progress
        # they report is committed as it goes (the page polls it from another connection);
        # the session's temporary tables are dropped at the end, and at the start in case a
        # run on this connection was cut short.
        drop = "DROP TABLE IF EXISTS lead_import, lead_import_merged"
        cursor.execute(drop)
        cursor.execute(
            "CREATE TEMP TABLE lead_import (line integer, "
            + ", ".join(f"{c} {'integer' if c == 'employees' else 'text'}" for c in LEAD_COLUMNS)
            + ")"
        )
        try:
            counts = _stage(cursor, columns, path, summary, active_sources, progress)
            write = not (dry_run or (summary.rejected and not skip_invalid))
            if write:
                bar = progress(_("Importing leads"), sum(counts))
                try:
                    with transaction.atomic():
                        created = _merge_staged(cursor)
                        _refit_and_promote(cursor, batch_size, created=created)
                    bar.update(sum(counts))
                finally:
                    bar.close()
        except BaseException:
            # In a caller's transaction a failed statement aborts it, and its rollback drops them.
            if not connection.in_atomic_block:
                cursor.execute(drop)
            raise
        cursor.execute(drop)
    summary.created, summary.updated, summary.duplicates = counts
    summary.written = write
    return summary


def _stage(cursor, columns, path, summary, active_sources, progress) -> tuple[int, int, int]:
    """COPY the valid rows into ``lead_import``, merge them per email; (created, updated, dups)."""
    with _checked_rows(path, summary, active_sources, progress) as valid:
        # Rows are checked (and progress reported, which may write to the database)
        # between COPYs, never during one: the connection is busy while a COPY runs.
        for batch in _batches(valid, COPY_BATCH_ROWS):
            with cursor.cursor.copy(f"COPY lead_import (line, {columns}) FROM STDIN") as copy:
                for line, values in batch:
                    copy.write_row((line, *(values[c] for c in LEAD_COLUMNS)))
    latest = ", ".join(
        f"(array_agg({c} ORDER BY line DESC) FILTER (WHERE {c} <> ''))[1] AS {c}"
        for c in _TEXT_COLUMNS
        if c not in FIRST_TOUCH_FIELDS and c != "email"
    )
    cursor.execute(
        "CREATE TEMP TABLE lead_import_merged AS "
        f"SELECT email, {latest}, "
        "(array_agg(employees ORDER BY line DESC) FILTER (WHERE employees IS NOT NULL))[1] "
        "AS employees, "
        "(array_agg(source ORDER BY line))[1] AS source, "
        "(array_agg(campaign ORDER BY line))[1] AS campaign, min(line) AS first_line, "
        "EXISTS (SELECT 1 FROM leads_lead l WHERE l.email = i.email) AS stored "
        "FROM lead_import i GROUP BY email"
    )
    cursor.execute(
        "SELECT count(*) FILTER (WHERE NOT stored), count(*) FILTER (WHERE stored), "
        "(SELECT count(*) FROM lead_import) - count(*) FROM lead_import_merged"
    )
    return cursor.fetchone()


def _merge_staged(cursor) -> set[int]:
    """Update the stored leads from ``lead_import_merged``, then insert the new ones (their ids)."""
    now = timezone.now()
    profile = [c for c in LEAD_COLUMNS if c != "email"]
    kept = [c for c in profile if c not in FIRST_TOUCH_FIELDS]
    cursor.execute(
        "UPDATE leads_lead l SET "
        + ", ".join(f"{c} = coalesce(m.{c}, l.{c})" for c in kept)
        + ", updated_at = %s FROM lead_import_merged m WHERE m.stored AND l.email = m.email",
        [now],
    )
    given = {"email", *profile}
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
    names, selected, params = [], [], []
    for f in fields:
        names.append(connection.ops.quote_name(f.column))
        name = "source" if f.name == "source" else f.name
        if name in given:
            # A column no row gave keeps the model's default ("" for text).
            default = f.get_db_prep_save(f.get_default(), connection)
            selected.append(f"coalesce(m.{name}, %s)" if name != "email" else "m.email")
            if name != "email":
                params.append(default)
        else:
            value = (
                now
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_default()
            )
            selected.append(f"%s::{f.db_type(connection)}")
            params.append(f.get_db_prep_save(value, connection))
    cursor.execute(
        f"INSERT INTO leads_lead ({', '.join(names)}) SELECT {', '.join(selected)} "
        "FROM lead_import_merged m WHERE NOT m.stored ORDER BY m.first_line RETURNING id",
        params,
    )
    return {row[0] for row in cursor.fetchall()}


def _refit_and_promote(cursor, batch_size: int, *, created: set[int]) -> None:
    """The fit of every imported lead, in keyed batches; then the promotions it allows.

    The new leads of a batch are announced (``leads_created``) once their fit is known, so
    their ``lead.created`` events show it as a lead created one at a time does, and before
    any promotion of theirs.
    """
    after = 0
    while True:
        cursor.execute(
            "SELECT l.id, l.employees, l.industry, l.country, l.fit, l.fit_reason FROM leads_lead l "
            "JOIN lead_import_merged m ON m.email = l.email WHERE l.id > %s ORDER BY l.id LIMIT %s",
            [after, max(batch_size, 1000)],
        )
        rows = cursor.fetchall()
        if not rows:
            return
        after = rows[-1][0]
        leads_fit_refresh(rows)
        new = [row[0] for row in rows if row[0] in created]
        if new:
            leads_created.send(sender=Lead, ids=new)
        leads_promote_if_meeting([row[0] for row in rows])
