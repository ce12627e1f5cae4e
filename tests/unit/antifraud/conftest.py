"""Small synthetic corpora and one quickly trained model, shared by the anti-fraud unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwatch.antifraud.bundle import ReportModel, report_artefacts
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.training.corpus import build_corpus, split_corpus
from tierwatch.antifraud.training.incidents import train_incident_model
from tierwatch.antifraud.training.synth.incidents import generate_incidents
from tierwatch.antifraud.training.train import TrainConfig, train_report_model

TINY = TrainConfig(
    text_features={"scam": 400, "scam_type": 200, "ai_technique": 100},
    scam_params={"n_estimators": 40, "max_depth": 4, "eta": 0.3, "subsample": 0.9, "colsample_bytree": 0.8, "max_bin": 32},
    multi_params={"n_estimators": 20, "max_depth": 4, "eta": 0.3, "max_bin": 32, "multi_strategy": "multi_output_tree"},
)


@pytest.fixture(scope="session")
def tiny_config() -> TrainConfig:
    return TINY


@pytest.fixture(scope="session")
def corpus():
    examples = build_corpus(None, synthetic=1500, seed=7)
    return examples, split_corpus(examples, seed=7)


@pytest.fixture(scope="session")
def report_model(corpus) -> ReportModel:
    examples, split = corpus
    return train_report_model(examples, split, TINY, progress=False)


@pytest.fixture(scope="session")
def incident_model():
    return train_incident_model(generate_incidents(1200, seed=3), seed=3)


@pytest.fixture(scope="session")
def _store_template(tmp_path_factory, report_model, incident_model) -> Path:
    root = tmp_path_factory.mktemp("models")
    store = ModelStore(root)
    v1 = store.save("report", report_artefacts(report_model), {"data_fingerprint": "ab12cd", "summary": {"pr_auc": 0.9}})
    store.activate(v1)
    model, evaluation = incident_model
    vi = store.save("incident", model.artefacts(), {"data_fingerprint": "ef34ab", "summary": {"f1": evaluation["severity_macro_f1"]}})
    store.activate(vi)
    return root


@pytest.fixture
def models_dir(_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the trained model store, so tests may tamper with it."""
    import shutil

    target = tmp_path / "models"
    shutil.copytree(_store_template, target)
    return target
