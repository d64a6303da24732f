"""Production settings, read from the environment, pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_environment_passes_check_deploy():
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "leadflow.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def manage(*args, **env_changes):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update({"DATABASE_URL": "sqlite:///:memory:", **env_changes})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_secret_key_production_refuses_to_start():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert "DEBUG off" in result.stderr


def test_an_empty_secret_key_counts_as_none():
    result = manage("check", DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_local_run_with_debug_on_starts_on_the_fallback_key_which_check_deploy_flags():
    assert manage("check", DEBUG="true").returncode == 0
    flagged = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="true")
    assert flagged.returncode != 0
    assert "SECRET_KEY" in flagged.stdout + flagged.stderr
