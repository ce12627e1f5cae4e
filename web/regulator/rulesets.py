"""Rule sets in the console: the history of versions, an uploaded file checked (errors with
their line numbers), its what-if (which applications would move between tiers, as a table and
a chart), activation with progress, and roll-back to an earlier version (administrators: the
same rule as the API's activate)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from tierwatch.registry import service
from tierwatch.registry.models import Application
from tierwatch.risk import sandbox
from tierwatch.risk import service as tiering
from tierwatch.risk.ruleset import RuleRuntimeError, RuleSetInvalid
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.charts import chart
from tierwatch.web.context import container_of
from tierwatch.web.forms import BaseForm
from tierwatch.web.jobs import Job, jobs
from tierwatch.web.labels import label
from tierwatch.web.regulator.blueprint import bp
from tierwatch.web.uploads import upload_limit

MAX_RULE_FILE = 1_000_000
CHECKSUM = re.compile(r"^[0-9a-f]{64}$")
MOVES_SHOWN = 200


class UploadForm(BaseForm):
    file = FileField(_l("Rule file (YAML)"), description=_l("It is checked first: nothing changes until you activate it."))


class ConfirmForm(FlaskForm):
    pass


def _uploads() -> Path:
    return container_of(current_app).settings.data_dir / "rule-uploads"


def _saved_text(checksum: str) -> str:
    """An uploaded file that passed the check, by its SHA-256 (kept under the data directory)."""
    if not CHECKSUM.match(checksum):
        abort(404)
    path = _uploads() / f"{checksum}.yaml"
    if not path.is_file():
        abort(404)
    return path.read_text(encoding="utf-8")


def _history(errors: list[Any] | None = None, form: UploadForm | None = None, status: int = 200) -> Any:
    uow = request_uow()
    return render_template("regulator/rulesets.html", versions=list(reversed(tiering.list_versions(uow))),
                           form=form or UploadForm(), errors=errors or [], confirm=ConfirmForm()), status


@bp.get("/rulesets")
@allow("regulator", "admin")
def rulesets() -> Any:
    return _history()


@bp.post("/rulesets/check")
@allow("regulator", "admin")
@upload_limit(MAX_RULE_FILE)
def check_ruleset() -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.file.data
    raw = upload.read() if upload is not None else b""
    problems: list[Any] = []
    text = ""
    if not raw.strip():
        problems = [{"line": None, "message": _("Choose a rule file.")}]
    elif len(raw) > MAX_RULE_FILE:
        problems = [{"line": None, "message": _("The file is larger than 1 MB.")}]
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems = [{"line": None, "message": _("The file must be UTF-8 text.")}]
    if not problems:
        text = text if "\n" in text else text + "\n"  # text, never a path (see the API)
        try:
            sandbox.check(text, getattr(upload, "filename", "") or "upload.yaml")
        except RuleSetInvalid as exc:
            problems = [{"line": e.line, "rule_id": e.rule_id, "message": e.message} for e in exc.errors]
    if problems:
        return _history(problems, form, 422)
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
    folder = _uploads()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / f"{checksum}.yaml").write_text(text, encoding="utf-8")
    return redirect(url_for("regulator.what_if", checksum=checksum), 303)


@bp.get("/rulesets/uploads/<checksum>")
@allow("regulator", "admin")
def what_if(checksum: str) -> Any:
    text = _saved_text(checksum)
    uow = request_uow()
    try:
        report = tiering.simulate(uow, text, service.iter_current_applications(uow))
    except (RuleSetInvalid, RuleRuntimeError) as exc:
        return _history([{"line": None, "message": str(exc)}], status=422)
    moves = report.moves[:MOVES_SHOWN]
    names = dict(uow.session.query(Application.id, Application.name)
                 .filter(Application.id.in_([m.application_id for m in moves])).all()) if moves else {}
    matrix = sorted(report.matrix.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
    moved = [(k, n) for k, n in matrix if k[0] != k[1]]
    figure = chart("bar", _("Applications that would move, by tier before and after"), _("Move"),
                   [f"{label(b, 'tier') if b else _('not tiered')} → {label(a, 'tier')}" for (b, a), _n in moved],
                   {_("Applications"): [n for _k, n in moved]}, width=560) if moved else None
    return render_template("regulator/what_if.html", report=report, moves=moves, names=names, matrix=matrix,
                           figure=figure, checksum=checksum, confirm=ConfirmForm())


def _start(kind: str, work: Any) -> Any:
    actor = current_actor()
    assert actor is not None
    container = container_of(current_app)

    def run(job: Job) -> dict[str, Any]:
        with container.uow() as uow:
            report = work(uow, actor, service.iter_current_applications(uow), job)
            uow.commit()
        return {"jurisdiction": report.jurisdiction, "version": report.version, "edition": report.edition,
                "assessed": report.assessed, "moved": len(report.moves), "retired_version": report.retired_version}

    uow = request_uow()
    total = uow.session.query(Application).count()
    job = jobs().start(kind, actor.user_id, total, run)
    return redirect(url_for("regulator.ruleset_job", job_id=job.id), 303)


@bp.post("/rulesets/uploads/<checksum>/activate")
@allow("admin")
def activate_ruleset(checksum: str) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    text = _saved_text(checksum)
    return _start("activate", lambda uow, actor, apps, job: tiering.activate_ruleset(uow, text, actor, apps, job))


@bp.post("/rulesets/<jurisdiction>/<int:version>/rollback")
@allow("admin")
def rollback_ruleset(jurisdiction: str, version: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tiering.get_version(request_uow(), jurisdiction, version)  # 404 for an unknown version
    return _start("rollback", lambda uow, actor, apps, job: tiering.rollback(uow, jurisdiction, version, actor, apps, job))


@bp.get("/rulesets/jobs/<job_id>")
@allow("regulator", "admin")
def ruleset_job(job_id: str) -> Any:
    job = jobs().get(job_id)
    if job is None:
        flash(_("That activation is no longer followed here; the history shows its outcome."), "info")
        return redirect(url_for("regulator.rulesets"), 303)
    return render_template("regulator/job.html", job=job)
