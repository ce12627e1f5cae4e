"""`tierwatch model ...`: train, evaluate, activate, roll back, list and compare detectors;
generate synthetic data; score a file (dry run); check drift."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tierwatch.antifraud.model_store import ModelStore, ModelStoreError
from tierwatch.cli.common import container

USES = click.Choice(["report", "incident"])


def _default_models_dir() -> Path:
    return container().settings.models_dir


def _default_data_dir() -> Path | None:
    path = container().settings.resolved_shared_data_dir
    return path if path.is_dir() else None


models_dir_option = click.option(
    "--models-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Model store folder [default: <TIERWATCH_DATA_DIR>/models].",
)


def _store(models_dir: Path | None) -> ModelStore:
    return ModelStore(models_dir or _default_models_dir())


def _checked(fn: Any, *args: Any) -> Any:
    """Run a model store operation; its errors become one readable CLI error line."""
    try:
        return fn(*args)
    except ModelStoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("model")
def model() -> None:
    """Anti-fraud detectors: train, evaluate, activate, roll back, compare."""


@model.command()
@click.option("--use", type=USES, default="report", show_default=True)
@models_dir_option
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Real datasets [default: ../shared/data if present].")
@click.option("--no-real", is_flag=True, help="Train on synthetic data only.")
@click.option("--synthetic", type=int, default=6000, show_default=True, help="Synthetic reports (or incidents) to generate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--activate/--no-activate", default=False, help="Activate the new model (the first one always is).")
@click.option("--generalisation/--no-generalisation", default=False, help="Also run the leave-one-type-out retraining checks.")
@click.option("--kind", type=click.Choice(["xgboost", "linear"]), default="xgboost", show_default=True,
              help="Report model kind: linear = the TF-IDF + LR character model, evaluated on the served path "
                   "(needs real data; it misses citizens' own accounts of a scam, see antifraud/README.md).")
def train(use: str, models_dir: Path | None, data_dir: Path | None, no_real: bool, synthetic: int, seed: int, activate: bool, generalisation: bool, kind: str) -> None:
    """Train a model, evaluate it beside the baseline and register it."""
    from tierwatch.antifraud.training.pipeline import Corpus, train_incident, train_report

    root = models_dir or _default_models_dir()
    if kind == "linear":
        _train_linear(use, root, None if no_real else (data_dir or _default_data_dir()), seed, activate, generalisation)
        return
    if use == "incident":
        outcome = train_incident(root, synthetic, seed, activate=activate)
    else:
        data = None if no_real else (data_dir or _default_data_dir())
        if data is None:
            click.echo("no real datasets found: training on synthetic data only", err=True)
        outcome = train_report(root, Corpus(data, synthetic, seed), activate=activate, generalisation=generalisation)
        _print_targets(outcome.evaluation)
    click.echo(f"registered {outcome.version}{' (active)' if outcome.activated else ''}")
    click.echo(f"evaluation: {outcome.page}")


def _train_linear(use: str, root: Path, data_dir: Path | None, seed: int, activate: bool, generalisation: bool) -> None:
    from tierwatch.detector_eval import train_linear_version

    if use != "report":
        raise click.ClickException("--kind linear is a report model; use --use report")
    if data_dir is None:
        raise click.ClickException("--kind linear trains on the real datasets: pass --data-dir (none found)")
    outcome = train_linear_version(root, data_dir, seed, activate=activate, generalisation=generalisation,
                                   log=lambda m: click.echo(m, err=True))
    _print_linear(outcome.evaluation)
    click.echo(f"registered {outcome.version}{' (active)' if outcome.activated else ''}")
    click.echo(f"evaluation: {outcome.page}")


def _print_linear(doc: dict) -> None:
    from tierwatch.detector_eval import summary

    for key, value in summary(doc).items():
        click.echo(f"{key:32} {_cell(value)}")


@model.command()
@click.argument("version", required=False)
@models_dir_option
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--generalisation/--no-generalisation", default=True, show_default=True)
def evaluate(version: str | None, models_dir: Path | None, data_dir: Path | None, generalisation: bool) -> None:
    """Evaluate a report model (default: the active one) beside a fresh baseline; writes
    evaluation.json and index.html under the model's folder."""
    from tierwatch.antifraud.linear_model import KIND as LINEAR
    from tierwatch.antifraud.training.pipeline import evaluate_version

    root = models_dir or _default_models_dir()
    store = ModelStore(root)
    chosen = version or store.active("report")
    if chosen and _checked(store.kind, chosen) == LINEAR:
        from tierwatch.detector_eval import evaluate_stored

        doc, page = _checked(lambda: evaluate_stored(root, chosen, data_dir, generalisation=generalisation))
        _print_linear(doc)
        click.echo(f"evaluation: {page}")
        return
    try:
        doc, page = evaluate_version(models_dir or _default_models_dir(), version, data_dir, generalisation=generalisation)
    except (ModelStoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    _print_targets(doc)
    click.echo(f"evaluation: {page}")


@model.command()
@click.argument("version")
@models_dir_option
def activate(version: str, models_dir: Path | None) -> None:
    """Make VERSION the active model of its use, in the model store and in the database."""
    store = _store(models_dir)
    previous = _checked(store.activate, version)
    _sync_database(store, version)
    click.echo(f"active: {version} (was {previous or 'none'})")


@model.command()
@click.option("--use", type=USES, default="report", show_default=True)
@models_dir_option
def rollback(use: str, models_dir: Path | None) -> None:
    """Re-activate the model that was active before the current one."""
    store = _store(models_dir)
    version = _checked(store.rollback, use)
    _sync_database(store, version)
    click.echo(f"active: {version}")


def _sync_database(store: ModelStore, version: str) -> None:
    """Mirror the new active model into the database's model versions, as retraining does."""
    import sqlalchemy as sa

    from tierwatch.antifraud.service import sync_model_versions

    try:
        with container().uow() as uow:
            sync_model_versions(uow.session, store)
            uow.commit()
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        raise click.ClickException(
            f"{version} is active in the model store, but the database's model versions were not updated "
            f"({reason}); run `tierwatch db upgrade` or fix TIERWATCH_DATABASE_URL, then run this again"
        ) from None


@model.command("list")
@click.option("--use", type=USES, default=None)
@models_dir_option
def list_(use: str | None, models_dir: Path | None) -> None:
    """Registered versions, oldest first; * marks the active one."""
    for row in _store(models_dir).versions(use):
        mark = "*" if row["active"] else " "
        numbers = ", ".join(f"{k}={v}" for k, v in row["summary"].items() if v is not None)
        click.echo(f"{mark} {row['version']}  {row['created_at'][:19]}  {numbers}")


@model.command()
@click.argument("a")
@click.argument("b")
@models_dir_option
def compare(a: str, b: str, models_dir: Path | None) -> None:
    """Summary metrics of two versions side by side (b - a)."""
    rows = _checked(_store(models_dir).compare, a, b)
    click.echo(f"{'metric':40} {'A':>10} {'B':>10} {'B-A':>10}")
    for key, row in rows.items():
        delta = f"{row['delta']:+.4f}" if row["delta"] is not None else ""
        click.echo(f"{key:40} {_cell(row[a]):>10} {_cell(row[b]):>10} {delta:>10}")


@model.command()
@click.option("--n", type=int, default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-")
def generate(n: int, seed: int, out: object) -> None:
    """Write synthetic labelled reports as JSON lines."""
    from tierwatch.antifraud.training.synth.generate import generate_reports

    for e in generate_reports(n, seed):
        row = {"report": e.report, "is_scam": e.is_scam, "scam_type": e.scam_type, "ai_technique": e.ai_technique, "family": e.subset}
        out.write(json.dumps(row, ensure_ascii=False) + "\n")  # type: ignore[attr-defined]


@model.command()
@click.argument("reports", type=click.File("r", encoding="utf-8"))
@models_dir_option
@click.option("--drift", is_flag=True, help="Print the PSI drift report instead of scores.")
def score(reports: object, models_dir: Path | None, drift: bool) -> None:
    """Score JSON-lines REPORTS (one report dict per line, or {"report": ...}) with the active
    models, touching nothing else."""
    from tierwatch.antifraud.schemas import result_to_dict
    from tierwatch.antifraud.scoring import Detector
    from tierwatch.antifraud.service import drift_report

    rows = []
    for line in reports:  # type: ignore[attr-defined]
        if line.strip():
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                item = {"text": None, "_error": str(exc)}
            rows.append(item.get("report", item) if isinstance(item, dict) else item)
    detector = Detector.load_active(models_dir or _default_models_dir())
    if detector is None or detector.report_model is None:
        raise click.ClickException("no active report model; run `tierwatch model train` first")
    if drift:
        from tierwatch.antifraud.bundle import ReportModel

        if not isinstance(detector.report_model, ReportModel):
            raise click.ClickException("drift reports are made for XGBoost report models only; the active one is linear")
        click.echo(json.dumps(drift_report(detector.report_model, detector.report_version, rows).to_json(), indent=2))
        return
    for result in detector.score_batch(rows):
        sys.stdout.write(json.dumps(result_to_dict(result), ensure_ascii=False) + "\n")


def _cell(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _print_targets(doc: dict) -> None:
    for name, target in doc.get("targets", {}).items():
        value = target["value"]
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        click.echo(f"{name}: {shown} ({'met' if target['met'] else 'NOT met'})")
