"""`tierwatch serve` on a fresh data directory initialises it; a command on a database without
tierwatch's tables says so in one line (not "cannot reach the backend", not a traceback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwatch.core.migrate import schema_state, upgrade

TIERWATCH = Path(sys.executable).parent / "tierwatch"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWATCH_")}
    return {**env, "TIERWATCH_SECRET_KEY": "s" * 32, **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_schema_state_tells_fresh_current_behind_and_foreign(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert schema_state(url) == "fresh"
    upgrade(url, revision="0001_core")
    assert schema_state(url) == "behind"
    upgrade(url)
    assert schema_state(url) == "current"
    other = f"sqlite:///{tmp_path / 'b.db'}"
    engine = sa.create_engine(other)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE someone_elses (id INTEGER)")
    engine.dispose()
    assert schema_state(other) == "foreign"


@pytest.mark.slow
def test_serve_on_a_fresh_relative_data_directory_initialises_it_and_serves(tmp_path):
    port = _free_port()
    server = subprocess.Popen([str(TIERWATCH), "serve", "--port", str(port)], cwd=tmp_path,
                              env=_env(TIERWATCH_DATA_DIR="var"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            assert line, f"serve ended early: {''.join(lines)}"
            lines.append(line)
            if line.startswith("tierwatch web on"):
                break
        assert lines[0] == f"initialised a new database at sqlite:///{tmp_path}/var/tierwatch.db\n"
        assert f"(data directory {tmp_path}/var)" in lines[-1]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/applications", timeout=30)
        assert refused.value.code == 401 and json.load(refused.value)["error"] == "unauthorized"
        refused.value.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as health:
            assert json.load(health) == {"status": "ok"}
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()
    assert schema_state(f"sqlite:///{tmp_path}/var/tierwatch.db") == "current"


def test_a_command_on_a_database_without_tables_says_what_and_where(tmp_path):
    (tmp_path / "var").mkdir()
    sa.create_engine(f"sqlite:///{tmp_path / 'var' / 'tierwatch.db'}").connect().close()  # empty file
    done = subprocess.run([str(TIERWATCH), "audit", "verify"], cwd=tmp_path, env=_env(TIERWATCH_DATA_DIR="var"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr and "cannot reach" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: the database at sqlite:///{tmp_path}/var/tierwatch.db has no tierwatch tables")
    assert f"TIERWATCH_DATA_DIR=var is relative: taken from the current directory, {tmp_path}" in line
    assert "tierwatch db upgrade" in line
