"""Secrets kept outside the database, by name.

Each key is 32 random bytes, read from the environment (``TIERWATCH_KEY_<NAME>``, URL-safe base64)
or from ``<keys dir>/<name>.key`` (default ``<data dir>/keys``, mode 600), created at random on
first use. Someone who can write the database therefore cannot forge what these keys protect.
Rotation keeps the replaced key as ``<name>.key.1`` (then ``.2``, ...) so that data protected
with it can still be read while it is re-protected (see SECURITY.md).

Names in use: ``session`` (Flask sessions and CSRF tokens), ``audit`` (HMAC of the audit chain),
``contacts`` (encryption of reporter contact details), ``pseudonym`` (keyed hash of a reporter's
contact, to count distinct reporters without storing who they are), ``tracking`` (tracking codes).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
NAMES = ("session", "audit", "contacts", "pseudonym", "tracking")


class KeyRingError(Exception):
    """A key is malformed or cannot be stored; the message names the key and the fix."""


def _decode(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError:
        raise KeyRingError(f"{where}: not URL-safe base64") from None
    if len(raw) < 32:
        raise KeyRingError(f"{where}: a key must be at least 32 bytes (got {len(raw)})")
    return raw


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class KeyRing:
    def __init__(self, directory: Path, environ: Mapping[str, str] | None = None):
        self.directory = directory
        self._environ = os.environ if environ is None else environ
        self._cache: dict[str, bytes] = {}

    def key(self, name: str) -> bytes:
        """The current key called ``name``; created (and stored) the first time it is asked for."""
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def from_environment(self, name: str) -> bool:
        return bool(self._environ.get(f"TIERWATCH_KEY_{name.upper()}"))

    def previous(self, name: str) -> list[bytes]:
        """Keys ``name`` had before rotations, newest first (none unless rotated)."""
        out, n = [], 1
        while (path := self._path(name).with_name(f"{name}.key.{n}")).exists():
            out.append(_decode(path.read_text(), str(path)))
            n += 1
        return out

    def rotate(self, name: str) -> None:
        """Make a new current key; the old one becomes ``<name>.key.1`` (and so on down)."""
        if f"TIERWATCH_KEY_{name.upper()}" in self._environ:
            raise KeyRingError(f"key {name!r} comes from TIERWATCH_KEY_{name.upper()}: rotate it there")
        path = self._path(name)
        self.key(name)
        older = sorted(self.directory.glob(f"{name}.key.*"), key=lambda p: -int(p.suffix[1:]))
        for p in older:
            p.rename(p.with_name(f"{name}.key.{int(p.suffix[1:]) + 1}"))
        path.rename(path.with_name(f"{name}.key.1"))
        self._cache.pop(name, None)
        self.key(name)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise KeyRingError(f"bad key name {name!r}")
        return self.directory / f"{name}.key"

    def _load(self, name: str) -> bytes:
        env = f"TIERWATCH_KEY_{name.upper()}"
        if self._environ.get(env):
            return _decode(self._environ[env], env)
        path = self._path(name)
        if not path.exists():
            self._create(path)
        return _decode(path.read_text(), str(path))

    def _create(self, path: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(_encode(secrets.token_bytes(32)) + "\n")
        try:
            os.link(tmp, path)  # atomic, and refuses to replace a key another process just made
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
