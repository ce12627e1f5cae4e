"""Evidence a company hands in for a supervision task (a self-assessment report, an incident
write-up): size- and type-limited files stored under the data directory.

The type is read from the file's first bytes (the ``filetype`` package), never from its name or
the browser's claim; the stored name is random and the original name is kept only to show. A file
is read back only through ``open_evidence``, which applies the same visibility as the task: a
company sees its own, the regulator side all.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden, Invalid, NotFound
from tierwatch.registry import audit
from tierwatch.registry.models import SupervisionTask, TaskEvidence

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_TASK = 20
# Detected type -> the content type it is served with.
ALLOWED = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class EvidenceStore:
    """Where the bytes live: ``<data dir>/evidence``; made owner-only on first use."""

    root: Path

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def write(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(target, "xb") as fh:  # a new random name: never overwrite
            fh.write(data)
        target.chmod(0o600)

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def _visible_task(uow: UnitOfWork, actor: Actor, task_id: int) -> SupervisionTask:
    task = uow.session.get(SupervisionTask, task_id)
    if task is None or (not actor.is_regulator and task.company_id != actor.company_id):
        raise NotFound(f"task {task_id} not found")
    return task


def clean_filename(name: str) -> str:
    """The name to show: no folders, no control characters, at most 200 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    return base.strip()[:200] or "evidence"


def add_evidence(uow: UnitOfWork, store: EvidenceStore, actor: Actor, task_id: int, filename: str,
                 data: bytes) -> TaskEvidence:
    """Store one file for a task of the actor's company; the caller commits (if the commit
    fails, the file is left without a row and never shown)."""
    task = _visible_task(uow, actor, task_id)
    if actor.role not in ("company", "admin"):
        raise Forbidden("the company hands in evidence")
    if not data:
        raise Invalid([{"field": "file", "message": "the file is empty", "code": "evidence.empty"}])
    if len(data) > MAX_BYTES:
        raise Invalid([{"field": "file", "message": f"larger than {MAX_BYTES // (1024 * 1024)} MB",
                        "code": "evidence.too_large"}])
    kind = filetype.guess(data)
    if kind is None or kind.extension not in ALLOWED:
        raise Invalid([{"field": "file", "message": "only PDF, PNG, JPEG, DOCX or XLSX files",
                        "code": "evidence.type"}])
    count = uow.session.scalar(sa.select(sa.func.count()).where(TaskEvidence.task_id == task.id)) or 0
    if count >= MAX_FILES_PER_TASK:
        raise Invalid([{"field": "file", "message": f"at most {MAX_FILES_PER_TASK} files per task",
                        "code": "evidence.too_many"}])
    key = secrets.token_hex(20)
    store.write(key, data)
    evidence = TaskEvidence(public_id=secrets.token_hex(16), task_id=task.id, company_id=task.company_id,
                            filename=clean_filename(filename), content_type=ALLOWED[kind.extension],
                            size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                            uploaded_by_id=actor.user_id)
    uow.session.add(evidence)
    uow.session.flush()
    audit.record(uow, actor, "supervision.evidence", "supervision_task", task.id,
                 changes={"evidence_id": evidence.id, "filename": evidence.filename, "size": evidence.size,
                          "sha256": evidence.sha256})
    return evidence


def list_evidence(uow: UnitOfWork, actor: Actor, task_id: int) -> list[TaskEvidence]:
    task = _visible_task(uow, actor, task_id)
    stmt = sa.select(TaskEvidence).where(TaskEvidence.task_id == task.id).order_by(TaskEvidence.id)
    return list(uow.session.scalars(stmt))


def open_evidence(uow: UnitOfWork, store: EvidenceStore, actor: Actor, public_id: str) -> tuple[TaskEvidence, bytes]:
    """The file and its bytes, if the actor may see the task it belongs to."""
    evidence = uow.session.scalars(sa.select(TaskEvidence).where(TaskEvidence.public_id == public_id)).first()
    if evidence is None or (not actor.is_regulator and evidence.company_id != actor.company_id):
        raise NotFound("evidence not found")
    return evidence, store.read(evidence.storage_key)
