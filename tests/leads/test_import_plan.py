"""The dry run lists what happens to each row: create, update (and what it changes), merge, reject.

These run on SQLite (the row-wise import) and again in the PostgreSQL pass, where
``leads_import_csv`` stages the rows with COPY; the last test runs both importers
on PostgreSQL and finds the same list.
"""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from apps.leads import imports
from apps.leads.import_jobs import summary_as_dict
from apps.leads.import_views import summary_for_page
from apps.leads.imports import PLAN_ROWS_LISTED, leads_import_csv
from apps.leads.models import Lead
from tests.factories import LeadFactory
from tests.leads.helpers import run_importer

pytestmark = pytest.mark.django_db

FILE = (
    "email,first_name,last_name,company,title,employees,country,source\n"
    "new@example.com,Aiko,Tanaka,Kumo,CTO,40,JP,webinar\n"  # 2: a new lead
    "Known@Example.com,Ken,Sato,Sora Inc,Head of IT,,JP,event\n"  # 3: changes company and title
    "same@example.com,Sam,Lee,Same Co,,,,\n"  # 4: holds these values already
    "not-an-email,Bad,Row,Broken Ltd,,,,\n"  # 5: invalid email
    "NEW@example.com,,,Kumo Systems,,,,\n"  # 6: line 2's email again
    "extra@example.com,Eve,,,,,,webinar,surplus\n"  # 7: one cell too many
    "odd@example.com,Odd,,,,,XX1,\n"  # 8: bad country
)


@pytest.fixture
def stored():
    LeadFactory(
        email="known@example.com",
        first_name="Ken",
        last_name="Sato",
        company="Sora",
        title="",
        employees=120,
        country="JP",
    )
    LeadFactory(
        email="same@example.com",
        first_name="Sam",
        last_name="Lee",
        company="Same Co",
        employees=None,
        country="US",
    )


def write(tmp_path, text, name="leads.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def plan_of(summary):
    return [
        (row.line, row.action, row.email, row.name, row.company, row.changes, row.merged_into)
        for row in summary.plan
    ]


def test_the_dry_run_says_for_each_row_whether_it_creates_updates_merges_or_is_rejected(
    tmp_path, stored
):
    summary = leads_import_csv(path=write(tmp_path, FILE), dry_run=True)

    assert plan_of(summary) == [
        (2, "create", "new@example.com", "Aiko Tanaka", "Kumo", [], None),
        (3, "update", "known@example.com", "Ken Sato", "Sora Inc", ["company", "title"], None),
        (4, "update", "same@example.com", "Sam Lee", "Same Co", [], None),
        (5, "reject", "not-an-email", "Bad Row", "Broken Ltd", [], None),
        (6, "merge", "new@example.com", "", "Kumo Systems", [], 2),
        (7, "reject", "extra@example.com", "Eve", "", [], None),
        (8, "reject", "odd@example.com", "Odd", "", [], None),
    ]
    reasons = {row.line: row.reason for row in summary.plan if row.reason}
    assert reasons[5] == "email: Enter a valid email address."
    assert reasons[7] == "the row has 9 cells but the header names 8 columns"
    assert reasons[8].startswith("country: ")
    # The list agrees with the counts, and the preview wrote nothing.
    assert (summary.created, summary.updated, summary.duplicates, summary.rejected) == (1, 2, 1, 3)
    assert summary.written is False
    assert Lead.objects.count() == 2
    assert Lead.objects.get(email="known@example.com").company == "Sora"


def test_a_blank_cell_or_a_new_source_is_no_change_to_a_stored_lead(tmp_path, stored):
    # A blank never erases a stored value, and a stored lead keeps its first touch.
    path = write(
        tmp_path, "email,company,title,source,campaign\nknown@example.com,,,event,Spring\n"
    )

    summary = leads_import_csv(path=path, dry_run=True)

    assert plan_of(summary) == [(2, "update", "known@example.com", "", "", [], None)]


def test_a_stored_email_repeated_in_the_file_is_one_update_and_a_merge(tmp_path, stored):
    path = write(
        tmp_path,
        "email,company\nknown@example.com,Sora\nnew@example.com,Kumo\nKNOWN@example.com,Sora 2\n",
    )

    summary = leads_import_csv(path=path, dry_run=True)

    assert [(row.line, row.action, row.merged_into) for row in summary.plan] == [
        (2, "update", None),
        (3, "create", None),
        (4, "merge", 2),
    ]
    assert (summary.created, summary.updated, summary.duplicates) == (1, 1, 1)


def test_the_import_then_does_what_the_preview_listed(tmp_path, stored):
    path = write(tmp_path, FILE)
    preview = leads_import_csv(path=path, dry_run=True)

    done = leads_import_csv(path=path, skip_invalid=True)

    assert done.written
    assert plan_of(done) == plan_of(preview)
    created = {row.email for row in preview.plan if row.action == "create"}
    assert set(Lead.objects.values_list("email", flat=True)) == created | {
        "known@example.com",
        "same@example.com",
    }
    known = Lead.objects.get(email="known@example.com")
    assert (known.company, known.title) == ("Sora Inc", "Head of IT")  # the listed changes
    # The repeat was merged into line 2's lead: its non-blank company won.
    assert Lead.objects.get(email="new@example.com").company == "Kumo Systems"


def test_only_the_first_rows_are_listed_and_the_rest_counted(tmp_path, stored):
    total = PLAN_ROWS_LISTED + 30
    rows = [f"lead{i}@example.com,Lead {i}\n" for i in range(total - 3)]
    rows += ["known@example.com,Ken\n", "broken,Bad\n", "lead0@example.com,Again\n"]
    path = write(tmp_path, "email,company\n" + "".join(rows))

    summary = leads_import_csv(path=path, dry_run=True)

    assert len(summary.plan) == PLAN_ROWS_LISTED
    assert [row.line for row in summary.plan] == list(range(2, PLAN_ROWS_LISTED + 2))
    assert {row.action for row in summary.plan} == {"create"}
    # Past the list, every row still counts: the update, the rejection and the merge.
    assert summary.rows == total
    assert (summary.created, summary.updated, summary.rejected, summary.duplicates) == (
        total - 3,
        1,
        1,
        1,
    )


def test_a_rejected_rows_long_values_are_cut_for_the_list(tmp_path):
    path = write(tmp_path, "email,company\n" + "x" * 300 + "," + "C" * 300 + "\n")

    summary = leads_import_csv(path=path, dry_run=True)

    (row,) = summary.plan
    assert row.action == "reject"
    assert (len(row.email), len(row.company)) == (imports.PLAN_TEXT_MAX, imports.PLAN_TEXT_MAX)


@pytest.mark.postgres
def test_on_postgresql_the_staged_import_lists_the_same_rows_as_the_row_wise_one(tmp_path, stored):
    path = write(tmp_path, FILE)

    def plan(importer):
        summary = run_importer(importer, path, dry_run=True)
        return [
            (row.line, row.action, row.email, row.reason, row.changes, row.merged_into)
            for row in summary.plan
        ]

    staged = plan(imports._import_staged)
    assert staged == plan(imports._import_rowwise)
    assert [row[1] for row in staged] == [
        "create",
        "update",
        "update",
        "reject",
        "merge",
        "reject",
        "reject",
    ]


@pytest.mark.parametrize(
    ("language", "notice"),
    [
        ("en", "The first 200 rows of 1,230 are listed"),
        ("ja", "全 1,230 行のうち最初の 200 行を表示しています"),
    ],
)
def test_a_long_files_notice_counts_its_rows_with_separators(tmp_path, language, notice):
    rows = "".join(f"lead{i}@example.com,Lead {i}\n" for i in range(1230))
    summary = leads_import_csv(path=write(tmp_path, "email,company\n" + rows), dry_run=True)

    with translation.override(language):
        html = render_to_string(
            "leads/_import_rows.html",
            {"summary": summary_for_page(summary_as_dict(summary))},
        )

    assert notice in html
