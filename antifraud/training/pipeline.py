"""Use cases behind `tierwatch model train|evaluate`: build the corpus, train, evaluate beside
the baseline, store the model with its evaluation, write the report page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tierwatch.antifraud.bundle import ReportModel, report_artefacts, report_from_files
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.training.corpus import fingerprint
from tierwatch.antifraud.training.evaluate import EvalContext, evaluate_report, load_context, summary
from tierwatch.antifraud.training.incidents import train_incident_model
from tierwatch.antifraud.training.report_page import write_evaluation
from tierwatch.antifraud.training.synth.incidents import generate_incidents
from tierwatch.antifraud.training.train import TrainConfig, train_report_model


@dataclass(frozen=True)
class Corpus:
    """How a model's training data was made, stored in its metadata so evaluation can rebuild
    exactly the same split."""

    data_dir: Path | None
    synthetic: int = 6000
    seed: int = 0

    def to_json(self) -> dict:
        return {"data_dir": str(self.data_dir) if self.data_dir else None, "synthetic": self.synthetic, "seed": self.seed}


@dataclass(frozen=True)
class TrainOutcome:
    version: str
    evaluation: dict
    page: Path
    activated: bool


def train_report(
    models_dir: Path,
    corpus: Corpus,
    config: TrainConfig | None = None,
    *,
    activate: bool = False,
    generalisation: bool = False,
    progress: bool = True,
) -> TrainOutcome:
    config = config or TrainConfig(seed=corpus.seed)
    ctx = load_context(corpus.data_dir, corpus.synthetic, corpus.seed)
    model = train_report_model(ctx.examples, ctx.split, config, progress)
    return register_report(models_dir, model, ctx, corpus, config, activate=activate, generalisation=generalisation, progress=progress)


def register_report(
    models_dir: Path,
    model: ReportModel,
    ctx: EvalContext,
    corpus: Corpus,
    config: TrainConfig,
    *,
    activate: bool,
    generalisation: bool,
    progress: bool,
    extra_meta: dict | None = None,
) -> TrainOutcome:
    doc, curves = evaluate_report(model, ctx, config, generalisation=generalisation, progress=progress)
    store = ModelStore(models_dir)
    meta = {
        "data_fingerprint": fingerprint(ctx.examples, repr(config.to_json())),
        "corpus": corpus.to_json(),
        "params": config.to_json(),
        "features": model.featurizer.feature_names,
        "n_features": len(model.featurizer.feature_names),
        "thresholds": {name: head.thresholds for name, head in model.heads.items()},
        "summary": summary(doc),
        "evaluation": {k: doc[k] for k in ("targets", "false_positive_rate", "data")},
        **(extra_meta or {}),
    }
    version = store.save("report", report_artefacts(model), meta)
    doc["version"] = version
    page = write_evaluation(store.folder(version), doc, curves)
    activated = activate or store.active("report") is None
    if activated:
        store.activate(version)
    return TrainOutcome(version, doc, page, activated)


def evaluate_version(models_dir: Path, version: str | None, data_dir: Path | None, *, generalisation: bool = True, progress: bool = True) -> tuple[dict, Path]:
    """Re-run the full evaluation of a stored report model on the split it was trained with."""
    store = ModelStore(models_dir)
    version = version or store.active("report")
    if not version:
        raise ValueError(f"no report model in {models_dir}; train one first")
    files = store.load_files(version)
    meta = json.loads(files["meta.json"])
    corpus = meta["corpus"]
    config = TrainConfig(**meta["params"])
    ctx = load_context(data_dir if data_dir is not None else _path(corpus["data_dir"]), corpus["synthetic"], corpus["seed"])
    model = report_from_files(files)
    doc, curves = evaluate_report(model, ctx, config, generalisation=generalisation, progress=progress)
    doc["version"] = version
    same = fingerprint(ctx.examples, repr(config.to_json())) == meta["data_fingerprint"]
    doc["data"]["same_data_as_training"] = same
    page = write_evaluation(store.folder(version), doc, curves)
    store.set_summary(version, summary(doc))
    return doc, page


def train_incident(models_dir: Path, n: int = 4000, seed: int = 0, *, activate: bool = False) -> TrainOutcome:
    rows = generate_incidents(n, seed)
    model, evaluation = train_incident_model(rows, seed)
    store = ModelStore(models_dir)
    meta = {
        "data_fingerprint": fingerprint([], repr((n, seed, sorted(r[1] for r in rows)))),
        "corpus": {"synthetic_incidents": n, "seed": seed},
        "params": {"seed": seed},
        "features": model.featurizer.feature_names,
        "summary": {"severity_macro_f1": round(evaluation["severity_macro_f1"], 4)},
        "evaluation": evaluation,
    }
    version = store.save("incident", model.artefacts(), meta)
    folder = store.folder(version) / "evaluation"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evaluation.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    activated = activate or store.active("incident") is None
    if activated:
        store.activate(version)
    return TrainOutcome(version, evaluation, folder / "evaluation.json", activated)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
