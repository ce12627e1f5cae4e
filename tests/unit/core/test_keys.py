"""The key ring: secrets outside the database, created once, private, rotatable."""

from __future__ import annotations

import base64
import stat
import threading
from pathlib import Path

import pytest

from tierwatch.core.keys import KeyRing, KeyRingError


def test_a_key_is_created_once_private_and_stable(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", environ={})
    first = ring.key("audit")
    assert len(first) == 32 and KeyRing(tmp_path / "keys", environ={}).key("audit") == first
    assert stat.S_IMODE((tmp_path / "keys" / "audit.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert ring.key("contacts") != first


def test_processes_racing_to_create_a_key_end_with_the_same_one(tmp_path: Path) -> None:
    got: list[bytes] = []
    threads = [threading.Thread(target=lambda: got.append(KeyRing(tmp_path, environ={}).key("tracking")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 1 and [p.name for p in tmp_path.iterdir()] == ["tracking.key"]


def test_the_environment_wins_and_is_checked(tmp_path: Path) -> None:
    raw = bytes(range(32))
    ring = KeyRing(tmp_path, environ={"TIERWATCH_KEY_AUDIT": base64.urlsafe_b64encode(raw).decode()})
    assert ring.key("audit") == raw and not (tmp_path / "audit.key").exists()
    with pytest.raises(KeyRingError, match="at least 32 bytes"):
        KeyRing(tmp_path, environ={"TIERWATCH_KEY_AUDIT": "c2hvcnQ"}).key("audit")
    with pytest.raises(KeyRingError, match="rotate it there"):
        ring.rotate("audit")


def test_rotation_keeps_the_old_keys_newest_first(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path, environ={})
    k0 = ring.key("contacts")
    ring.rotate("contacts")
    k1 = ring.key("contacts")
    ring.rotate("contacts")
    assert len({k0, k1, ring.key("contacts")}) == 3
    assert ring.previous("contacts") == [k1, k0]
    assert KeyRing(tmp_path, environ={}).key("contacts") == ring.key("contacts")


def test_key_names_cannot_reach_outside_the_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError):
        KeyRing(tmp_path, environ={}).key("../secret")


def test_the_keys_command_lists_and_rotates(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tierwatch.cli.keys import keys

    env = {"TIERWATCH_DATA_DIR": str(tmp_path)}
    listed = CliRunner().invoke(keys, ["list"], env=env)
    assert listed.exit_code == 0 and str(tmp_path / "keys" / "contacts.key") in listed.output
    before = KeyRing(tmp_path / "keys", environ={}).key("contacts")
    assert CliRunner().invoke(keys, ["rotate", "contacts"], env=env).exit_code == 0
    ring = KeyRing(tmp_path / "keys", environ={})
    assert ring.key("contacts") != before and ring.previous("contacts") == [before]
    assert CliRunner().invoke(keys, ["rotate", "audit"], env=env).exit_code == 2  # not by this command
