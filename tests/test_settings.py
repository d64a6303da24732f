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


def test_the_local_fallback_secret_key_is_flagged_by_check_deploy():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DEBUG": "false", "DATABASE_URL": "sqlite:///:memory:"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr
