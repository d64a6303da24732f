"""Settings read from the environment: local runs are local, production is hardened and passes its checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "PRODUCTION": "true",
    "SECRET_KEY": "a-long-random-production-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "leadflow.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}
# What a shell on a developer's machine may have set; each test says what it wants.
SWITCHES = ("PRODUCTION", "DEBUG", "SECRET_KEY", "COLLECTED_STATIC", "SECURE_SSL_REDIRECT")


def environment(**changes):
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    # Any run with DEBUG off needs a key; the tests about a missing one pass SECRET_KEY="".
    env.update({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "a-local-test-key", **changes})
    return env


def manage(*args, **env_changes):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(**env_changes),
        capture_output=True,
        text=True,
        timeout=120,
    )


def python(code, **env_changes):
    env = {"DJANGO_SETTINGS_MODULE": "leadflow.settings", **env_changes}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


ANSWER_OVER_HTTP = """
import json, django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="127.0.0.1").get("/accounts/login/")
print(json.dumps([response.status_code, response.get("Location")]))
"""


def test_production_environment_passes_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_a_secret_key_debug_off_refuses_to_start():
    result = manage("check", DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert "DEBUG off" in result.stderr


def test_a_local_run_with_debug_on_starts_on_the_fallback_key_which_check_deploy_flags():
    assert manage("check", DEBUG="true", SECRET_KEY="").returncode == 0
    flagged = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="true", SECRET_KEY="")
    assert flagged.returncode != 0
    assert "SECRET_KEY" in flagged.stdout + flagged.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_local_run_without_debug_answers_plain_http_and_does_not_redirect_to_https():
    status, location = python(ANSWER_OVER_HTTP)
    assert (status, location) == (200, None)


def test_production_redirects_plain_http_to_https():
    status, location = python(ANSWER_OVER_HTTP, **{**PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1"})
    assert status == 301 and location.startswith("https://127.0.0.1/")


def test_importing_the_settings_makes_no_folder_and_celery_makes_its_broker_folder(tmp_path):
    broker = tmp_path / "broker"
    code = """
import json, os, django
django.setup()
made_by_setup = os.path.exists({folder!r})
from leadflow.celery import app
app.conf.broker_url  # Celery reads its configuration, as before sending a task
print(json.dumps([made_by_setup, os.path.isdir({folder!r})]))
""".format(folder=str(broker))
    assert python(code, CELERY_BROKER_FOLDER=str(broker)) == [False, True]


STATIC_STORAGE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps([settings.STORAGES["staticfiles"]["BACKEND"], settings.WHITENOISE_USE_FINDERS]))
"""


def test_static_files_are_served_by_the_environment_not_by_which_files_exist(tmp_path):
    (tmp_path / "staticfiles.json").write_text("{}")  # as a collectstatic once left it

    local = python(STATIC_STORAGE, STATIC_ROOT=str(tmp_path))
    production = python(STATIC_STORAGE, **PRODUCTION, STATIC_ROOT=str(tmp_path / "empty"))

    assert local == ["django.contrib.staticfiles.storage.StaticFilesStorage", True]
    assert production == ["whitenoise.storage.CompressedManifestStaticFilesStorage", False]
