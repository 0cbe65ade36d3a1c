"""`manage.py check --deploy` with the environment a production deployment sets (README's
configuration table) reports no issue at all, warnings included."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "videos.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://videos.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    """`check --deploy` in a fresh interpreter with the real settings module and `env` only
    (none of this process's own settings variables)."""
    names = {*PRODUCTION, "DATABASE_URL", "REDIS_URL", "SESSION_COOKIE_SECURE"}
    environment = {key: value for key, value in os.environ.items() if key not in names}
    environment.update(env, DJANGO_SETTINGS_MODULE="videohost.settings")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_without_a_single_warning():
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr.upper()


def warnings_of(result: subprocess.CompletedProcess) -> set[str]:
    output = result.stdout + result.stderr
    return {word.strip("():") for word in output.split() if word.startswith("(security.")}


def test_without_tls_hardening_the_check_names_the_redirect_and_hsts():
    """The check really looks: the clean pass above is the settings' doing."""
    env = {
        key: value
        for key, value in PRODUCTION.items()
        if not key.startswith(("SECURE_SSL", "SECURE_HSTS"))
    }
    result = check_deploy(**env)
    assert result.returncode != 0
    assert warnings_of(result) == {"security.W004", "security.W008"}


def test_hsts_without_its_flags_a_short_key_and_plain_cookies_are_each_named():
    env = {
        **PRODUCTION,
        "SECRET_KEY": "short",
        "SESSION_COOKIE_SECURE": "0",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0",
        "SECURE_HSTS_PRELOAD": "0",
    }
    result = check_deploy(**env)
    assert warnings_of(result) == {
        "security.W005",
        "security.W009",
        "security.W012",
        "security.W021",
    }
