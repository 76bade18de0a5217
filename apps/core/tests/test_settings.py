"""Settings come from the environment: safe for production when DEBUG is off, no server needed by default.

Each test starts a fresh interpreter with a clean environment (and no .env file), because settings are
read once per process."""
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parents[3]


def clean_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "erp.settings",
        "ENV_FILE": os.devnull,  # ignore a developer's .env
    }
    env.update(overrides)
    return env


def production_env(**overrides: str) -> dict[str, str]:
    values = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "SHOP_CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "erp.example.com",
    }
    values.update(overrides)
    return clean_env(**values)


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def settings_as_json(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run_python(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_deploy_check_reports_nothing_with_debug_off_and_real_secrets():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified some issues" not in output
    assert "System check identified no issues" in output


def test_settings_refuse_to_load_with_debug_off_and_no_secret_key():
    env = production_env()
    del env["SECRET_KEY"]

    result = run_python(["-c", "import erp.settings"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_settings_refuse_to_load_with_debug_off_and_an_empty_secret_key():
    result = run_python(["-c", "import erp.settings"], production_env(SECRET_KEY=""))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_settings_refuse_to_load_with_debug_off_and_no_shop_credentials_keys():
    env = production_env()
    del env["SHOP_CREDENTIALS_KEYS"]

    result = run_python(["-c", "import erp.settings"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SHOP_CREDENTIALS_KEYS" in result.stderr


def test_default_database_is_a_sqlite_file_under_var():
    values = settings_as_json(clean_env(DEBUG="1"), "DATABASES")

    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]).parent == BASE_DIR / "var"


def test_default_sqlite_database_uses_immediate_transactions_wal_and_a_busy_timeout():
    values = settings_as_json(clean_env(DEBUG="1"), "DATABASES")

    options = values["DATABASES"]["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


def test_database_url_selects_postgresql():
    env = clean_env(DEBUG="1", DATABASE_URL="postgres://erp:pw@db.example.com:5432/erp")

    database = settings_as_json(env, "DATABASES")["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["NAME"]) == ("db.example.com", "erp")


def test_postgresql_connections_turn_jit_off_unless_asked():
    url = "postgres://erp:pw@db.example.com:5432/erp"
    database = settings_as_json(clean_env(DEBUG="1", DATABASE_URL=url), "DATABASES")["DATABASES"]["default"]
    assert "-c jit=off" in database["OPTIONS"]["options"]
    assert "-c work_mem=32MB" in database["OPTIONS"]["options"]

    database = settings_as_json(clean_env(DEBUG="1", DATABASE_URL=url, POSTGRES_JIT="1"), "DATABASES")["DATABASES"]
    assert "jit=off" not in database["default"].get("OPTIONS", {}).get("options", "")


def test_postgresql_connections_come_from_a_pool_unless_turned_off():
    url = "postgres://erp:pw@db.example.com:5432/erp"
    database = settings_as_json(clean_env(DEBUG="1", DATABASE_URL=url), "DATABASES")["DATABASES"]["default"]
    assert database["CONN_MAX_AGE"] == 0 and database["OPTIONS"]["pool"]["max_size"] == 8

    env = clean_env(DEBUG="1", DATABASE_URL=url, POSTGRES_POOL="0")
    database = settings_as_json(env, "DATABASES")["DATABASES"]["default"]
    assert "pool" not in database["OPTIONS"] and database["CONN_MAX_AGE"] == 60


@pytest.mark.django_db
def test_postgresql_session_really_runs_without_jit_and_with_analysis_work_mem():
    """On the test database itself (skipped on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == "32MB"


def test_debug_off_turns_on_https_only_cookies_redirect_and_hsts():
    values = settings_as_json(
        production_env(),
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
    )

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000


def test_debug_off_allows_only_the_configured_hosts():
    values = settings_as_json(production_env(), "ALLOWED_HOSTS")

    assert values["ALLOWED_HOSTS"] == ["erp.example.com"]
