"""`tierwatch model train` and `model evaluate` end to end on synthetic data (no real datasets)."""

import json

import pytest
from click.testing import CliRunner

from tierwatch.cli.model import model as model_cli
from tierwatch.antifraud.model_store import ModelStore


@pytest.mark.slow
def test_train_then_evaluate_writes_report_with_baseline(tmp_path):
    models = tmp_path / "models"
    runner = CliRunner()
    out = runner.invoke(model_cli, ["train", "--no-real", "--synthetic", "700", "--models-dir", str(models)])
    assert out.exit_code == 0, out.output
    store = ModelStore(models)
    version = store.active("report")
    assert version and f"registered {version} (active)" in out.output
    folder = store.folder(version) / "evaluation"
    doc = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    assert {"xgboost", "baseline"} <= set(doc["scam"]) and {"xgboost", "baseline"} <= set(doc["scam_type"])
    assert 0.5 < doc["scam"]["xgboost"]["all_test"]["pr_auc"] <= 1
    assert {"by_length_quartile", "length_matched_benign", "truncated_scams", "length_only_model"} <= set(doc["length"])
    assert (folder / "index.html").read_text(encoding="utf-8").count("<img") == 4
    assert all((folder / f"{name}.png").stat().st_size > 1000 for name in ("pr_roc", "calibration", "confusion_type", "length"))

    meta = store.meta(version)
    assert meta["params"]["seed"] == 0 and meta["corpus"]["synthetic"] == 700 and meta["features"]

    out = runner.invoke(model_cli, ["evaluate", "--no-generalisation", "--models-dir", str(models)])
    assert out.exit_code == 0, out.output
    again = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    assert again["data"]["same_data_as_training"] is True
    assert again["scam"]["xgboost"]["all_test"]["pr_auc"] == doc["scam"]["xgboost"]["all_test"]["pr_auc"]

    out = runner.invoke(model_cli, ["train", "--use", "incident", "--synthetic", "800", "--models-dir", str(models)])
    assert out.exit_code == 0, out.output
    assert store.active("incident")


def test_generate_writes_labelled_json_lines():
    out = CliRunner().invoke(model_cli, ["generate", "--n", "20", "--seed", "3"])
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert len(rows) == 20 and all("report" in r and r["is_scam"] in (0, 1) for r in rows)
