"""Marketers import leads from the UI: upload, dry-run preview, confirm, progress."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.leads.models import Lead, LeadImport
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
URL = reverse("leads:import")
CSV = (
    "email,first_name,last_name,company,country,source\n"
    "new@example.com,Aiko,Tanaka,Kumo,JP,webinar\n"
    "known@example.com,Ken,Sato,Sora,JP,event\n"
    "not-an-email,Bad,Row,X,JP,webinar\n"
)


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.LEADFLOW_IMPORT_DIR = tmp_path


def upload(client, text, *, encoding="utf-8", name="leads.csv", **extra):
    data = {"file": SimpleUploadedFile(name, text.encode(encoding), "text/csv"), **extra}
    return client.post(URL, data)


def preview_of(client, text, **kwargs):
    with_capture = kwargs.pop("capture")
    with with_capture(execute=True):
        response = upload(client, text, **kwargs)
    assert response.status_code == 302, response.content
    return LeadImport.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])


def test_a_marketer_previews_then_imports_with_the_bad_rows_listed(
    client, marketer, django_capture_on_commit_callbacks
):
    LeadFactory(email="known@example.com")
    client.force_login(marketer)
    job = preview_of(client, CSV, capture=django_capture_on_commit_callbacks)
    assert job.state == "done" and job.dry_run
    body = client.get(reverse("leads:import_job", args=[job.pk])).content.decode()
    assert job.summary["created"] == 1 and job.summary["updated"] == 1
    assert job.summary["rejected"] == 1
    assert "line 4" in body or ">4<" in body
    assert "Enter a valid email address." in body
    assert not Lead.objects.filter(email="new@example.com").exists()  # a preview writes nothing

    # Bad rows without "skip": refused with a message, nothing written.
    response = client.post(reverse("leads:import_confirm", args=[job.pk]))
    assert response.status_code == 409
    assert "Skip the invalid rows" in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("leads:import_confirm", args=[job.pk]), {"skip_invalid": "on"}
        )
    written = LeadImport.objects.get(preview=job)
    assert response["Location"] == reverse("leads:import_job", args=[written.pk])
    assert written.state == "done" and written.summary["created"] == 1
    assert Lead.objects.get(email="new@example.com").company == "Kumo"
    # The same preview cannot be imported twice.
    again = client.post(reverse("leads:import_confirm", args=[job.pk]), {"skip_invalid": "on"})
    assert again.status_code == 409


def test_a_shift_jis_file_is_read_as_such(client, marketer, django_capture_on_commit_callbacks):
    client.force_login(marketer)
    text = "email,last_name,company,source\nsato@example.jp,佐藤,雲システム,event\n"
    job = preview_of(client, text, encoding="cp932", capture=django_capture_on_commit_callbacks)
    assert job.summary["encoding"] == "cp932"
    assert job.summary["created"] == 1


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x00\x01\x02binary", "holds binary data"),
        (PNG, "holds binary data"),
        (b"name,company\nAiko,Kumo\n", "The first row must name the columns, one of them email"),
        (b"email;first_name\na@example.com;Aiko\n", "separated by semicolons (;)"),
        (b"email\tfirst_name\na@example.com\tAiko\n", "separated by tabs"),
        ("email,first_name\nrenee@example.com,Renée\n".encode("cp1252"), "Windows-1252"),
        (b"email,name\nx,\x81\x20\n", "neither UTF-8 nor Shift_JIS"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_at_upload_with_the_reason(
    client, marketer, tmp_path, content, problem
):
    client.force_login(marketer)
    response = client.post(URL, {"file": SimpleUploadedFile("x.csv", content, "text/csv")})
    assert response.status_code == 400
    body = response.content.decode()
    assert problem in body
    assert "import_leads" not in body  # no command-line advice on a web form
    assert 'data-testid="import-form"' in body  # the form is shown again
    assert not LeadImport.objects.exists() and not list(tmp_path.iterdir())


def test_the_refusal_at_upload_is_in_japanese_for_a_japanese_reader(client, marketer):
    client.force_login(marketer)
    client.cookies["django_language"] = "ja"
    content = b"email;first_name\na@example.com;Aiko\n"
    response = client.post(URL, {"file": SimpleUploadedFile("x.csv", content, "text/csv")})
    assert response.status_code == 400
    assert "セミコロン（;）" in response.content.decode()
    response = client.post(URL, {"file": SimpleUploadedFile("x.csv", PNG, "text/csv")})
    assert "バイナリ" in response.content.decode()
    content = "email\nrenee@example.com,Renée\n".encode("cp1252")
    response = client.post(URL, {"file": SimpleUploadedFile("x.csv", content, "text/csv")})
    assert "Windows-1252 や Latin-1 の可能性" in response.content.decode()


def test_only_the_head_of_a_long_file_is_checked_at_upload(
    client, marketer, django_capture_on_commit_callbacks
):
    from apps.leads.imports import CSV_HEAD_BYTES

    # A good header, a long file, and a bad row far down: the preview finds the row.
    rows = "".join(f"p{i}@example.com,webinar\n" for i in range(CSV_HEAD_BYTES // 20))
    text = "email,source\n" + rows + "not-an-email,webinar\n"
    client.force_login(marketer)
    job = preview_of(client, text, capture=django_capture_on_commit_callbacks)
    assert job.state == "done" and job.summary["rejected"] == 1


def test_a_shift_jis_file_whose_kana_come_late_is_left_to_the_preview(
    client, marketer, django_capture_on_commit_callbacks
):
    from apps.leads.imports import CSV_HEAD_BYTES

    # The head alone reads as unlikely Shift_JIS (no kana yet); the whole file has kana.
    rows = "".join(f"p{i}@example.com,Ab漢c\n" for i in range(CSV_HEAD_BYTES // 20))
    text = "email,last_name\n" + rows + "kana@example.com,さとう\n"
    client.force_login(marketer)
    job = preview_of(client, text, encoding="cp932", capture=django_capture_on_commit_callbacks)
    assert job.summary["encoding"] == "cp932"


def test_the_file_input_asks_for_a_csv(client, marketer):
    client.force_login(marketer)
    assert 'accept=".csv,text/csv"' in client.get(URL).content.decode()


def test_an_empty_or_oversized_upload_is_refused_with_a_message(client, marketer, settings):
    client.force_login(marketer)
    response = upload(client, "")
    assert response.status_code == 400
    assert "The submitted file is empty." in response.content.decode()
    settings.LEADFLOW_IMPORT_MAX_BYTES = 10
    response = upload(client, CSV)
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not LeadImport.objects.exists()


def test_a_body_far_over_the_limit_is_refused_as_too_large(client, marketer, settings):
    client.force_login(marketer)
    settings.LEADFLOW_IMPORT_MAX_BYTES = 0
    response = upload(client, CSV * 30000)
    assert response.status_code == 413


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_only_marketing_imports(client, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    assert upload(client, CSV).status_code == 403


def test_another_marketers_import_is_a_404(client, marketer, django_capture_on_commit_callbacks):
    from tests.factories import UserFactory

    client.force_login(marketer)
    job = preview_of(client, CSV, capture=django_capture_on_commit_callbacks)
    client.force_login(UserFactory(username="mark", roles=["marketing"]))
    assert client.get(reverse("leads:import_job", args=[job.pk])).status_code == 404
    assert client.post(reverse("leads:import_confirm", args=[job.pk])).status_code == 404


def job_page(client, user, **fields) -> str:
    """The page of an import made here with ``fields`` (a file that is not on disk)."""
    client.force_login(user)
    job = LeadImport.objects.create(
        created_by=user, file_name="big.csv", path="/nonexistent", size=1, **fields
    )
    return client.get(reverse("leads:import_job", args=[job.pk])).content.decode()


def test_a_running_import_shows_its_progress_and_polls(client, marketer):
    fields = {"state": "running", "done_rows": 2500, "total_rows": 10000}
    body = job_page(client, marketer, phase="Importing leads", dry_run=False, **fields)
    assert 'hx-trigger="every 1s"' in body
    assert '<progress max="100" value="25">' in body
    assert "2,500 of 10,000 rows (25%)" in body
    # A preview's total is the file's lines: said to be about.
    body = job_page(client, marketer, phase="Checking rows", **fields)
    assert "2,500 of about 10,000 rows (25%)" in body
    client.cookies["django_language"] = "ja"
    body = client.get(
        reverse("leads:import_job", args=[LeadImport.objects.latest("pk").pk])
    ).content
    assert "約 10,000 行中 2,500 行（25%）" in body.decode()
    body = job_page(client, marketer, state="running", done_rows=40000)
    assert "40,000 行を読み込みました" in body


def test_a_files_rows_are_estimated_from_its_lines(tmp_path):
    from apps.leads.import_jobs import rows_estimate

    path = tmp_path / "x.csv"
    path.write_text(CSV)
    assert rows_estimate(path) == 3
    path.write_text(CSV.rstrip("\n"))  # no line break after the last row
    assert rows_estimate(path) == 3
    path.write_text("email\n")
    assert rows_estimate(path) is None


def test_a_preview_run_shows_the_estimate_as_its_total(marketer, tmp_path):
    job = run_job(marketer, tmp_path, CSV)
    assert job.total_rows == 3 and job.done_rows == 3


def test_the_upload_form_has_no_lone_step_number(client, marketer):
    client.force_login(marketer)
    body = client.get(URL).content.decode()
    assert ">Choose the file<" in body and "1. " not in body


def test_a_task_delivered_twice_imports_once(marketer, tmp_path):
    from apps.leads.import_jobs import lead_import_run

    path = tmp_path / "x.csv"
    path.write_text(CSV)
    job = LeadImport.objects.create(
        created_by=marketer,
        file_name="x.csv",
        path=str(path),
        size=1,
        dry_run=False,
        skip_invalid=True,
    )
    assert lead_import_run(job_id=job.pk) is not None
    assert lead_import_run(job_id=job.pk) is None
    assert Lead.objects.count() == 2
    assert not path.exists()  # the write was the file's last use


def test_the_confirm_step_says_plainly_what_the_invalid_rows_need(
    client, marketer, django_capture_on_commit_callbacks
):
    client.force_login(marketer)
    job = preview_of(client, CSV, capture=django_capture_on_commit_callbacks)
    body = client.get(reverse("leads:import_job", args=[job.pk])).content.decode()
    # The invalid rows are stated, and the button waits for the box (checked by leadflow.js).
    assert "1 row is invalid and cannot be imported." in body
    assert 'data-needs-check="id_confirm_skip_invalid"' in body
    assert "Import 2 leads, skip the invalid rows" in body
    # The box is inside its label; no jargon, no raw column name in the reasons.
    assert '<label class="check-label" for="id_confirm_skip_invalid"><input type="checkbox"' in body
    assert "3 rows read; the file is in UTF-8." in body and "utf-8-sig" not in body
    assert "Email: Enter a valid email address." in body and "email:" not in body
    assert "<strong>2</strong>leads to create" in body and "<strong>1</strong>row rejected" in body
    # Without JavaScript the server still refuses, and says why, with the form kept.
    refused = client.post(reverse("leads:import_confirm", args=[job.pk]))
    assert refused.status_code == 409
    assert "Skip the invalid rows" in refused.content.decode()
    assert 'data-testid="import-confirm"' in refused.content.decode()


def test_a_clean_file_imports_without_a_box_and_in_japanese(
    client, marketer, django_capture_on_commit_callbacks
):
    client.force_login(marketer)
    text = "email,last_name,company,source\nsato@example.jp,佐藤,雲システム,event\n"
    job = preview_of(client, text, encoding="cp932", capture=django_capture_on_commit_callbacks)
    body = client.get(reverse("leads:import_job", args=[job.pk])).content.decode()
    assert "Import 1 lead<" in body and "data-needs-check" not in body
    assert "1 row read; the file is in Shift_JIS." in body
    client.cookies["django_language"] = "ja"
    body = client.get(
        reverse("leads:import_job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "Shift_JIS" in body and "1 件のリードをインポート" in body


def test_recent_imports_tell_a_preview_from_an_import_and_a_failure(
    client, marketer, django_capture_on_commit_callbacks
):
    client.force_login(marketer)
    preview_of(client, CSV, capture=django_capture_on_commit_callbacks)
    LeadImport.objects.create(
        created_by=marketer, file_name="bad.csv", path="/nonexistent", size=1, state="failed"
    )
    body = client.get(URL).content.decode()
    assert "preview only, not imported" in body
    assert ">failed<" in body
    assert "· Done" not in body
    # The upload form's box sits inside its label, with no "(optional)".
    assert '<label class="check-label" for="id_skip_invalid"><input type="checkbox"' in body
    assert "(optional)" not in body


def plan_rows(body: str) -> list[tuple[str, str]]:
    """(action, line) of each row of the preview's row-by-row table."""
    return re.findall(r'class="plan-row is-\w+" data-action="(\w+)" data-line="(\d+)"', body)


def test_the_preview_lists_each_row_with_what_will_happen_to_it(
    client, marketer, django_capture_on_commit_callbacks
):
    LeadFactory(email="known@example.com", first_name="Ken", last_name="Sato", company="Old Co")
    client.force_login(marketer)
    text = CSV + "NEW@example.com,,,Kumo Systems,,\n"
    job = preview_of(client, text, capture=django_capture_on_commit_callbacks)
    page = reverse("leads:import_job", args=[job.pk])

    body = client.get(page).content.decode()

    assert plan_rows(body) == [("create", "2"), ("update", "3"), ("reject", "4"), ("merge", "5")]
    assert "A new lead." in body
    assert "Changes: Company, Country." in body  # Ken Sato's name is unchanged
    assert "Email: Enter a valid email address." in body
    assert "Same email as line 2: merged into one lead" in body
    # The filter offers each action found, with its count; "All" is chosen.
    assert re.search(r'data-testid="plan-filter-create">Create <span class="plan-count">1<', body)
    assert re.search(r'data-testid="plan-filter-merge">Merge <span class="plan-count">1<', body)
    assert 'id="plan-show-all" value="all" checked' in body
    # Every row is in the table, so the rejected rows are not listed a second time.
    assert 'data-testid="import-rejections"' not in body and "import-plan-partial" not in body

    body = client.get(page, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "行ごとの内容" in body
    assert ">作成 <span" in body and ">更新 <span" in body and ">除外 <span" in body
    assert "2 行目と同じメールアドレス" in body and "変更: 会社" in body


def test_a_long_files_preview_lists_its_first_rows_and_the_rejections_below_them(client, marketer):
    planned = [
        {"line": 2, "action": "create", "email": "a@example.com", "name": "", "company": ""},
        {"line": 3, "action": "reject", "email": "b", "name": "", "company": "", "reason": "x"},
    ]
    rejections = [{"line": 3, "reason": "x"}, {"line": 900, "reason": "email: Enter a value."}]
    body = job_page(
        client,
        marketer,
        state="done",
        summary={
            "rows": 1000,
            "created": 997,
            "updated": 0,
            "duplicates": 0,
            "rejected": 3,
            "plan": planned,
            "rejections": rejections,
        },
    )

    assert plan_rows(body) == [("create", "2"), ("reject", "3")]
    assert "The first 2 rows of 1,000 are listed; the counts above are for the whole file." in body
    # Below the table: the rejected rows it does not reach, and the count of the unlisted one.
    assert "Rejected rows further down" in body
    listed_apart = body.split('data-testid="import-rejections"')[1].split("</table>")[0]
    assert re.findall(r'class="num">(\d+)</td>', listed_apart) == ["900"]
    assert "Email: Enter a value." in body
    assert "3 rows rejected in all." in body


def test_a_big_previews_counts_have_thousands_separators(client, marketer):
    summary = {"rows": 40000, "created": 39990, "updated": 0, "duplicates": 0, "rejected": 10}
    body = job_page(client, marketer, state="done", summary=summary)

    created = body.split('data-testid="import-created"')[1].split("</div>")[0]
    assert "<strong>39,990</strong>" in created
    assert "40,000 rows read" in body


def test_a_preview_stored_without_a_row_list_still_lists_its_rejected_rows(client, marketer):
    body = job_page(
        client,
        marketer,
        state="done",
        summary={
            "rows": 2,
            "created": 1,
            "updated": 0,
            "duplicates": 0,
            "rejected": 1,
            "rejections": [{"line": 3, "reason": "email: Enter a valid email address."}],
        },
    )

    assert 'data-testid="import-plan"' not in body
    assert 'data-testid="import-rejections"' in body and ">Rejected rows<" in body
    assert "Email: Enter a valid email address." in body


def run_job(user, tmp_path, text, *, language=None, encoding="utf-8") -> LeadImport:
    """A preview of ``text`` run by the worker (no request: no language active but the site's)."""
    from apps.leads.import_jobs import lead_import_run

    path = tmp_path / "run.csv"
    path.write_bytes(text.encode(encoding))
    job = LeadImport.objects.create(created_by=user, file_name="run.csv", path=str(path), size=1)
    return lead_import_run(job_id=job.pk, language=language)


BAD_ROWS = "email,source\nnot-an-email,webinar\nok@example.com,nonsense_source\n"


def test_the_worker_words_the_rows_reasons_in_the_uploaders_language(marketer, tmp_path):
    job = run_job(marketer, tmp_path, BAD_ROWS, language="ja")
    reasons = " ".join(row["reason"] for row in job.summary["rejections"])
    assert "有効なメールアドレスを入力してください" in reasons
    assert "「nonsense_source」は有効なリードソースではありません" in reasons
    assert "Enter a valid" not in reasons and "is not an active" not in reasons
    # The same job from an English page: English.
    job = run_job(marketer, tmp_path, BAD_ROWS, language="en")
    assert "Enter a valid email address." in job.summary["rejections"][0]["reason"]


def test_the_worker_falls_back_on_the_users_chosen_language(marketer, tmp_path):
    marketer.language = "ja"
    marketer.save(update_fields=["language"])
    job = run_job(marketer, tmp_path, "name;mail\nx;y\n")
    assert job.state == "failed"
    assert "1行目には列名が必要" in job.error
    job = run_job(marketer, tmp_path, BAD_ROWS, language="xx")  # unknown: the user's
    assert "有効なメールアドレス" in job.summary["rejections"][0]["reason"]


def test_the_phase_title_is_stored_in_the_uploaders_language(marketer, tmp_path):
    job = run_job(marketer, tmp_path, CSV, language="ja")
    assert job.phase == "行を確認中"


def test_an_upload_from_a_japanese_page_queues_its_job_in_japanese(
    client, marketer, django_capture_on_commit_callbacks, monkeypatch
):
    from apps.leads import tasks

    sent = []
    monkeypatch.setattr(tasks.lead_import_task, "apply_async", lambda args, **kw: sent.append(args))
    client.force_login(marketer)
    client.cookies["django_language"] = "ja"
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, CSV)
    assert response.status_code == 302
    assert sent == [(LeadImport.objects.get().pk, "ja")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_progress_is_reported_outside_any_transaction(marketer, tmp_path):
    """So the page, polling from another connection, sees it as the import runs (also on PG)."""
    from django.db import connection

    from apps.leads.imports import leads_import_csv

    seen = []

    class Bar:
        def __init__(self, description, total):
            seen.append((str(description), connection.in_atomic_block))

        def update(self, n=1):
            seen.append(("update", connection.in_atomic_block))

        def close(self):
            pass

    path = tmp_path / "x.csv"
    path.write_text(CSV)
    leads_import_csv(path=path, dry_run=True, progress=Bar)
    leads_import_csv(path=path, skip_invalid=True, progress=Bar)
    assert ("Checking rows", False) in seen and ("Importing leads", False) in seen
    assert [step for step in seen if step[1]] == []
    assert Lead.objects.count() == 2


def test_an_imports_check_pass_counts_its_previews_rows(marketer, tmp_path):
    from apps.leads.import_jobs import lead_import_run

    preview = run_job(marketer, tmp_path, CSV + "\n\n\n")  # blank lines: the estimate is 6
    assert preview.summary["rows"] == 3
    job = LeadImport.objects.create(
        created_by=marketer,
        file_name="run.csv",
        path=preview.path,
        size=1,
        dry_run=False,
        preview=preview,
    )
    job = lead_import_run(job_id=job.pk)
    assert job.state == "done" and job.phase == "Checking rows" and job.total_rows == 3
