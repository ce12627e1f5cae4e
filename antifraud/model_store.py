"""The model store on disk: versions per use, one active per use, activation history.

Layout::

    <models_dir>/registry.json              versions, checksums, active version and history per use
    <models_dir>/<use>/<version>/meta.json  version, data fingerprint, parameters, features, evaluation
    <models_dir>/<use>/<version>/*.ubj      XGBoost boosters in XGBoost's own UBJSON format
    <models_dir>/<use>/<version>/*.json     featurizer, heads (calibration, thresholds), drift reference

Loading reads only the file names a use declares, checks each file's SHA-256 against
registry.json before parsing the very bytes it hashed, and parses them with ``json`` or
XGBoost's own loader. Nothing is ever unpickled: a file swapped for a pickle fails the checksum,
and if the checksums were rewritten too it still fails the format check.

The index keeps its historical file name, registry.json, so model folders written before the
store was renamed load unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from tierwatch.core.clock import utcnow

ARTEFACTS = {
    "report": ("meta.json", "featurizer.json", "heads.json", "reference.json", "scam.ubj", "scam_type.ubj", "ai_technique.ubj"),
    "incident": ("meta.json", "featurizer.json", "heads.json", "severity.ubj"),
}
# A use may hold models of another kind than its default, with their own files; the kind is
# recorded with the version, so activation and loading stay the same for every kind.
KIND_ARTEFACTS = {
    ("report", "linear"): ("meta.json", "featurizer.json", "linear.json"),
}
_VERSION = re.compile(r"^[a-z]+-\d{8}T\d{6}-[0-9a-f]{6}(?:-\d+)?$")


class ModelStoreError(Exception):
    """A model cannot be saved, found or trusted; the message says which and why."""


class ModelStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    # --- index -------------------------------------------------------------------------------
    def _index_path(self) -> Path:
        return self.root / "registry.json"

    def index(self) -> dict:
        path = self._index_path()
        if not path.exists():
            return {"format": 1, "versions": {}, "active": {}, "history": {}}
        return json.loads(path.read_text(encoding="utf-8"))

    def _write_index(self, index: dict) -> None:
        _atomic_write(self._index_path(), json.dumps(index, ensure_ascii=False, indent=2).encode())

    # --- saving ------------------------------------------------------------------------------
    def save(self, use: str, artefacts: dict[str, bytes], meta: dict, kind: str | None = None) -> str:
        if use not in ARTEFACTS:
            raise ModelStoreError(f"unknown use {use!r}; known: {', '.join(ARTEFACTS)}")
        if kind is not None and (use, kind) not in KIND_ARTEFACTS:
            raise ModelStoreError(f"unknown {use} model kind {kind!r}")
        expected = set(_names(use, kind)) - {"meta.json"}
        if set(artefacts) != expected:
            raise ModelStoreError(f"{use} model needs exactly {sorted(expected)}, got {sorted(artefacts)}")
        index = self.index()
        now = utcnow()
        fingerprint = str(meta.get("data_fingerprint", ""))[:6].ljust(6, "0")
        version = f"{use}-{now:%Y%m%dT%H%M%S}-{fingerprint}"
        n = 1
        while version in index["versions"]:
            n += 1
            version = f"{use}-{now:%Y%m%dT%H%M%S}-{fingerprint}-{n}"
        meta = {**meta, "version": version, "use": use, "created_at": now.isoformat(), **({"kind": kind} if kind else {})}
        files = {**artefacts, "meta.json": json.dumps(meta, ensure_ascii=False, indent=2).encode()}
        folder = self.root / use / version
        folder.mkdir(parents=True, exist_ok=False)
        for name, data in files.items():
            _atomic_write(folder / name, data)
        index["versions"][version] = {
            "use": use,
            "created_at": meta["created_at"],
            "checksums": {name: _sha256(data) for name, data in files.items()},
            "summary": meta.get("summary", {}),
            **({"kind": kind} if kind else {}),
        }
        self._write_index(index)
        return version

    def set_summary(self, version: str, summary: dict) -> None:
        index = self.index()
        self._entry(index, version)["summary"] = summary
        self._write_index(index)

    # --- loading -----------------------------------------------------------------------------
    def load_files(self, version: str) -> dict[str, bytes]:
        """The verified bytes of every artefact of a version."""
        entry = self._entry(self.index(), version)
        use = entry["use"]
        folder = self.root / use / version
        out = {}
        for name in _names(use, entry.get("kind")):
            path = folder / name
            if path.is_symlink() or not path.is_file():
                raise ModelStoreError(f"{version}: {name} is missing or not a regular file")
            data = path.read_bytes()
            want = entry["checksums"].get(name)
            if want is None or _sha256(data) != want:
                raise ModelStoreError(f"{version}: checksum of {name} does not match registry.json; refusing to load")
            if name.endswith(".ubj") and not data.startswith(b"{"):
                raise ModelStoreError(f"{version}: {name} is not an XGBoost UBJSON model; refusing to load")
            out[name] = data
        return out

    def kind(self, version: str) -> str | None:
        """The version's model kind, or None for the use's default kind."""
        return self._entry(self.index(), version).get("kind")

    def meta(self, version: str) -> dict:
        return json.loads(self.load_files(version)["meta.json"])

    def folder(self, version: str) -> Path:
        return self.root / self._entry(self.index(), version)["use"] / version

    # --- activation --------------------------------------------------------------------------
    def active(self, use: str) -> str | None:
        return self.index()["active"].get(use)

    def activate(self, version: str) -> str | None:
        """Make a version the active one of its use; returns the previously active version."""
        self.load_files(version)  # never activate something that would not load
        index = self.index()
        use = self._entry(index, version)["use"]
        previous = index["active"].get(use)
        if previous != version:
            index["active"][use] = version
            index["history"].setdefault(use, []).append(
                {"version": version, "previous": previous, "at": utcnow().isoformat()}
            )
            self._write_index(index)
        return previous

    def rollback(self, use: str) -> str:
        """Re-activate the version that was active before the current one."""
        index = self.index()
        current = index["active"].get(use)
        for event in reversed(index["history"].get(use, [])):
            if event["version"] == current and event["previous"]:
                self.activate(event["previous"])
                return event["previous"]
        raise ModelStoreError(f"no earlier active {use} model to roll back to")

    def versions(self, use: str | None = None) -> list[dict]:
        index = self.index()
        rows = []
        for version, entry in sorted(index["versions"].items(), key=lambda kv: kv[1]["created_at"]):
            if use and entry["use"] != use:
                continue
            active = index["active"].get(entry["use"]) == version
            rows.append({"version": version, "use": entry["use"], "created_at": entry["created_at"], "active": active, "summary": entry.get("summary", {})})
        return rows

    def compare(self, a: str, b: str) -> dict[str, Any]:
        """Summary metrics of two versions side by side, with b - a for each number."""
        index = self.index()
        sa, sb = self._entry(index, a).get("summary", {}), self._entry(index, b).get("summary", {})
        rows = {}
        for key in sorted(set(sa) | set(sb)):
            va, vb = sa.get(key), sb.get(key)
            delta = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            rows[key] = {a: va, b: vb, "delta": delta}
        return rows

    def _entry(self, index: dict, version: str) -> dict:
        if not _VERSION.match(version or "") or version not in index["versions"]:
            raise ModelStoreError(f"unknown model version {version!r} in {self.root}")
        return index["versions"][version]


def _names(use: str, kind: str | None) -> tuple[str, ...]:
    return KIND_ARTEFACTS[(use, kind)] if kind else ARTEFACTS[use]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
