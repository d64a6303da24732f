"""Japanese, complete and deployed: the catalogue has no gap, and the README's deploy steps carry it.

The compiled catalogue (``django.mo``) is committed beside ``django.po``: a checkout deployed
as the README says (``pip install .``, ``migrate``, ``collectstatic``, gunicorn) needs no
gettext tools and has Japanese. A test keeps the committed ``.mo`` equal to the ``.po``.
"""

import gettext
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
PO = BASE / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def po_entries(text: str) -> list[dict]:
    """Each entry of a .po file: its flags, msgid and msgstr(s), continuation lines joined."""
    entries = []
    for block in text.split("\n\n"):
        entry, key = {"flags": "", "msgid": "", "msgstr": []}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid "):
                key, entry["msgid"] = "msgid", line[6:].strip('"')
            elif line.startswith("msgid_plural "):
                key = "plural"
            elif line.startswith("msgstr"):
                key = "msgstr"
                entry["msgstr"].append(line.split(" ", 1)[1].strip('"'))
            elif line.startswith('"') and key == "msgid":
                entry["msgid"] += line.strip('"')
            elif line.startswith('"') and key == "msgstr":
                entry["msgstr"][-1] += line.strip('"')
        if entry["msgid"]:
            entries.append(entry)
    return entries


def test_every_japanese_entry_is_translated_and_none_is_fuzzy():
    entries = po_entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 800
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not untranslated, f"untranslated entries: {untranslated}"


def catalogue(mo: Path) -> dict:
    with mo.open("rb") as file:
        return dict(gettext.GNUTranslations(file)._catalog)


def test_the_committed_compiled_catalogue_is_the_po_file_compiled(tmp_path):
    """After editing django.po, `make messages` and commit django.mo: deployments read the .mo."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("no msgfmt (gettext) to compile with")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(PO)], check=True)
    assert MO.exists(), "locale/ja/LC_MESSAGES/django.mo is missing: run `make messages`"
    assert catalogue(MO) == catalogue(fresh), (
        "django.mo is stale: run `make messages` and commit it"
    )
    if (BASE / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "-q", str(MO)], cwd=BASE)
        assert ignored.returncode != 0, "django.mo is ignored by git: a checkout would lack it"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_site_deployed_as_the_readme_says_speaks_japanese(tmp_path):
    """README, "Running it in production": from a checkout, `pip install .`, `migrate`,
    `collectstatic`, then the Procfile's web process; a Japanese browser gets Japanese."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=BASE,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    checkout = tmp_path / "checkout"
    for name in filter(None, (f.decode() for f in files)):
        source = BASE / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    assert (checkout / "locale/ja/LC_MESSAGES/django.mo").exists(), "a checkout has no .mo"

    # A fresh virtual environment; the dependencies come from this one's (no network).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "dependencies.pth").write_text("\n".join(ours) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "."],
        cwd=checkout,
        check=True,
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PRODUCTION": "true",
        "SECRET_KEY": "deploy-test-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_BROKER_URL": "memory://",
    }
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [str(python), "manage.py", *step, "-v", "0"], cwd=checkout, env=env, check=True
        )
    port = free_port()
    procfile = (checkout / "Procfile").read_text()
    assert "gunicorn leadflow.wsgi:application" in procfile
    web = subprocess.Popen(
        [str(python), "-m", "gunicorn", "leadflow.wsgi:application", "-b", f"127.0.0.1:{port}"],
        cwd=checkout,
        env=env,
    )
    try:
        body = ""
        for _attempt in range(100):
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/accounts/login/",
                    headers={"Accept-Language": "ja,en;q=0.5"},
                )
                body = urllib.request.urlopen(request, timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert 'lang="ja"' in body
        assert "Leadflow にログイン" in body
        assert not re.search(r"Sign in to Leadflow|>Sign in<", body)
    finally:
        web.terminate()
        web.wait(timeout=10)
