import subprocess
import sys

import pytest

from tierwatch.core.settings import SettingsError, load_settings


def test_defaults_run_on_one_machine(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for var in ("TIERWATCH_BUS", "TIERWATCH_SEARCH", "TIERWATCH_DATABASE_URL", "TIERWATCH_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.bus == "sql"
    assert settings.search == "fts"
    assert settings.secure_cookies is True and settings.rate_limit_storage == "memory://"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/var/tierwatch.db"


def test_a_relative_data_directory_is_taken_from_where_the_command_runs(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TIERWATCH_DATA_DIR", "data/tw")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == tmp_path / "data" / "tw" and settings.data_dir.is_absolute()
    assert settings.resolved_keys_dir == tmp_path / "data" / "tw" / "keys"
    assert load_settings(keys_dir="k").keys_dir == tmp_path / "k"


def test_secure_cookies_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWATCH_SECURE_COOKIES", "0")
    assert load_settings().secure_cookies is False


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWATCH_BUS", "kafka")
    monkeypatch.setenv("TIERWATCH_KAFKA_BOOTSTRAP", "10.0.0.5:9092,10.0.0.6:9092")
    settings = load_settings()
    assert settings.bus == "kafka"
    assert settings.kafka_bootstrap == "10.0.0.5:9092,10.0.0.6:9092"


@pytest.mark.parametrize(
    ("var", "value", "fix"),
    [
        ("TIERWATCH_BUS", "rabbitmq", "'sql'"),
        ("TIERWATCH_DATABASE_URL", "mysql://x", "postgresql+psycopg://"),
        ("TIERWATCH_KAFKA_BOOTSTRAP", "localhost", "127.0.0.1:9092"),
        ("TIERWATCH_ELASTICSEARCH_URL", "127.0.0.1:9200", "http://"),
    ],
)
def test_bad_setting_names_variable_and_fix(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, fix: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith(var + ":")
    assert fix in message
    assert "\n" not in message


def test_cli_reports_bad_setting_in_one_line_without_traceback() -> None:
    env = {"TIERWATCH_BUS": "rabbitmq", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "tierwatch.cli", "db", "upgrade"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: TIERWATCH_BUS:")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_reports_unreachable_database_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {
        "TIERWATCH_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/none",
        "TIERWATCH_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tierwatch.cli", "db", "upgrade"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: TIERWATCH_DATABASE_URL: cannot reach")
    assert "Traceback" not in proc.stderr
    assert "u:p" not in proc.stderr  # the password is not echoed


def test_kafka_group_timings_reach_the_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    from tierwatch.bootstrap import build

    monkeypatch.setenv("TIERWATCH_BUS", "kafka")
    monkeypatch.setenv("TIERWATCH_INTAKE_SESSION_TIMEOUT", "12")
    monkeypatch.setenv("TIERWATCH_INTAKE_SEND_TIMEOUT", "4.5")
    bus = build(load_settings()).bus  # built, not connected
    assert bus.consumer_options == {"session.timeout.ms": 12000, "heartbeat.interval.ms": 3000,
                                    "max.poll.interval.ms": 300000}
    assert bus.send_timeout == 4.5


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("TIERWATCH_INTAKE_HEARTBEAT_INTERVAL", "5", "at most a third of the session timeout"),
        ("TIERWATCH_INTAKE_MAX_POLL_INTERVAL", "8", "at least the session timeout"),
        ("TIERWATCH_INTAKE_SESSION_TIMEOUT", "2", "greater than or equal to 6"),
        ("TIERWATCH_INTAKE_BATCH_SIZE", "0", "greater than or equal to 1"),
    ],
)
def test_intake_timings_are_checked_and_named(monkeypatch: pytest.MonkeyPatch, var: str, value: str,
                                              message: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith(f"{var}: ") and message in str(err.value)


def test_what_tierwatch_writes_is_readable_by_its_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    data = tmp_path / "data"
    env = {"TIERWATCH_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}
    old = os.umask(0o022)  # a permissive caller: the command must not depend on it
    try:
        proc = subprocess.run([sys.executable, "-m", "tierwatch.cli", "db", "upgrade"],
                              capture_output=True, text=True, env=env, timeout=120)
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(data) == 0o700 and mode(data / "tierwatch.db") == 0o600
    assert mode(data / "keys") == 0o700
    assert all(mode(p) == 0o600 for p in (data / "keys").iterdir())
    assert all(mode(p) & 0o077 == 0 for p in data.rglob("*"))
