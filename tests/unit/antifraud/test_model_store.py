import json
import pickle

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tierwatch.antifraud.bundle import report_artefacts, report_from_files
from tierwatch.cli.model import model as model_cli
from tierwatch.antifraud.features import prepare
from tierwatch.antifraud.model_store import ModelStore, ModelStoreError
from tierwatch.antifraud.models import ModelVersion
from tierwatch.antifraud.scoring import Detector
from tierwatch.core.db import make_engine

TEXTS = [{"text": "您好，这里是京东客服，您的订单需要理赔，请下载会议软件共享屏幕"}, {"text": "晚上回家吃饭吗？"}]


class _Payload:
    """Unpickling this would create a marker file: proof that a pickle was executed."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_round_trip_gives_identical_predictions(models_dir, report_model):
    store = ModelStore(models_dir)
    loaded = report_from_files(store.load_files(store.active("report")))
    items = [prepare(t) for t in TEXTS]
    for name, head in report_model.heads.items():
        a = head.proba(report_model.featurizer.transform(items))
        b = loaded.heads[name].proba(loaded.featurizer.transform(items))
        np.testing.assert_allclose(a, b, rtol=1e-6)
        assert loaded.heads[name].thresholds == head.thresholds


def test_metadata_holds_version_fingerprint_and_checksums(models_dir):
    store = ModelStore(models_dir)
    version = store.active("report")
    meta = store.meta(version)
    assert meta["version"] == version and meta["use"] == "report" and meta["data_fingerprint"] == "ab12cd"
    assert set(store.index()["versions"][version]["checksums"]) >= {"scam.ubj", "featurizer.json", "meta.json"}


def test_a_model_file_swapped_for_a_pickle_is_refused(models_dir, tmp_path):
    store = ModelStore(models_dir)
    version = store.active("report")
    marker = tmp_path / "pwned"
    target = store.folder(version) / "scam.ubj"
    target.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ModelStoreError, match="checksum"):
        Detector.load_active(models_dir)
    # even with the checksum rewritten to match, the bytes are not a UBJSON booster
    index = json.loads((models_dir / "registry.json").read_text())
    import hashlib

    index["versions"][version]["checksums"]["scam.ubj"] = hashlib.sha256(target.read_bytes()).hexdigest()
    (models_dir / "registry.json").write_text(json.dumps(index))
    with pytest.raises(ModelStoreError, match="not an XGBoost UBJSON"):
        Detector.load_active(models_dir)
    assert not marker.exists()


def test_an_edited_json_artefact_is_refused(models_dir):
    store = ModelStore(models_dir)
    path = store.folder(store.active("report")) / "heads.json"
    heads = json.loads(path.read_text())
    heads["scam"]["thresholds"]["operating"] = 0.0
    path.write_text(json.dumps(heads))
    with pytest.raises(ModelStoreError, match="heads.json"):
        store.load_files(store.active("report"))


def test_unknown_or_path_like_versions_are_refused(models_dir):
    store = ModelStore(models_dir)
    for bad in ("nope", "../../etc", "report-20250101T000000-abcdef"):
        with pytest.raises(ModelStoreError):
            store.load_files(bad)


def test_activate_rollback_list_compare(models_dir, report_model):
    store = ModelStore(models_dir)
    first = store.active("report")
    second = store.save("report", report_artefacts(report_model), {"data_fingerprint": "ffffff", "summary": {"pr_auc": 0.95}})
    assert store.active("report") == first  # saving does not activate
    assert store.activate(second) == first
    assert store.rollback("report") == first
    assert store.active("report") == first
    rows = store.versions("report")
    assert [r["active"] for r in rows] == [True, False]
    diff = store.compare(first, second)
    assert diff["pr_auc"]["delta"] == pytest.approx(0.05)


def test_rollback_without_history_fails_cleanly(models_dir):
    with pytest.raises(ModelStoreError, match="no earlier"):
        ModelStore(models_dir).rollback("report")


def test_cli_list_activate_rollback_compare(models_dir, report_model, migrated_sqlite, monkeypatch):
    monkeypatch.setenv("TIERWATCH_DATABASE_URL", migrated_sqlite)  # activation updates the database too
    store = ModelStore(models_dir)
    first = store.active("report")
    second = store.save("report", report_artefacts(report_model), {"data_fingerprint": "eeeeee", "summary": {"pr_auc": 0.97}})
    runner = CliRunner()
    args = ["--models-dir", str(models_dir)]
    out = runner.invoke(model_cli, ["list", "--use", "report", *args])
    assert out.exit_code == 0 and f"* {first}" in out.output and second in out.output
    out = runner.invoke(model_cli, ["activate", second, *args])
    assert out.exit_code == 0 and store.active("report") == second
    out = runner.invoke(model_cli, ["compare", first, second, *args])
    assert out.exit_code == 0 and "+0.0700" in out.output
    out = runner.invoke(model_cli, ["rollback", "--use", "report", *args])
    assert out.exit_code == 0 and store.active("report") == first
    out = runner.invoke(model_cli, ["activate", "report-bogus", *args])
    assert out.exit_code != 0 and "unknown model version" in out.output


def _versions_in_database(url: str) -> dict[str, bool]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.select(ModelVersion.version, ModelVersion.active)).all())
    finally:
        engine.dispose()


def test_cli_activate_and_rollback_update_the_database_as_retraining_does(models_dir, report_model, migrated_sqlite,
                                                                          monkeypatch):
    monkeypatch.setenv("TIERWATCH_DATABASE_URL", migrated_sqlite)
    store = ModelStore(models_dir)
    first, incident = store.active("report"), store.active("incident")
    second = store.save("report", report_artefacts(report_model), {"data_fingerprint": "dddddd", "summary": {"pr_auc": 0.9}})
    runner, args = CliRunner(), ["--models-dir", str(models_dir)]

    out = runner.invoke(model_cli, ["activate", second, *args])
    assert out.exit_code == 0, out.output
    assert _versions_in_database(migrated_sqlite) == {first: False, second: True, incident: True}
    out = runner.invoke(model_cli, ["rollback", "--use", "report", *args])
    assert out.exit_code == 0, out.output
    assert _versions_in_database(migrated_sqlite) == {first: True, second: False, incident: True}


def test_cli_activate_says_so_when_the_database_cannot_be_updated(models_dir, report_model, tmp_path, monkeypatch):
    monkeypatch.setenv("TIERWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    store = ModelStore(models_dir)
    second = store.save("report", report_artefacts(report_model), {"data_fingerprint": "cccccc"})
    out = CliRunner().invoke(model_cli, ["activate", second, "--models-dir", str(models_dir)])
    assert out.exit_code == 1
    assert f"{second} is active in the model store, but the database's model versions were not updated" in out.output
    assert "tierwatch db upgrade" in out.output and "Traceback" not in out.output
    assert store.active("report") == second  # running it again once the database is fixed completes it


def test_cli_score_is_a_dry_run(models_dir, tmp_path):
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in [*TEXTS, {"text": ""}]) + "\nnot json\n", encoding="utf-8")
    out = CliRunner().invoke(model_cli, ["score", str(path), "--models-dir", str(models_dir)])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [r["kind"] for r in rows] == ["score", "score", "rejected", "rejected"]
