from __future__ import annotations

from pathlib import Path

import pytest

from tierwatch.core.clock import utcnow
from tierwatch.core.settings import load_settings
from tierwatch.monitoring.models import Report, ReportIdentifier
from tierwatch import jobs as wiring
from tierwatch.bootstrap import Container, build


@pytest.fixture
def container(migrated_sqlite: str, tmp_path: Path) -> Container:
    return build(load_settings(database_url=migrated_sqlite, data_dir=tmp_path, secret_key="t"))


def test_every_package_job_is_registered_with_a_stable_id() -> None:
    assert {"registry.supervision_tasks", "antifraud.drift", "antifraud.retrain",
            "monitoring.relink_applications"} <= set(wiring.JOBS)


def test_fetch_reports_rebuilds_detector_input_with_identifiers(container: Container) -> None:
    now = utcnow()
    with container.uow() as uow:
        uow.session.add(Report(report_id="r1", tracking_code="TW-JOBS000001", kind="scam",
                               schema_version=1, description="点击链接领取补贴", channel="sms",
                               reported_at=now, received_at=now))
        uow.session.flush()
        uow.session.add(ReportIdentifier(report_id="r1", kind="url", value="etc-pay.top",
                                         reported_at=now))
        uow.commit()
    got = wiring.fetch_reports(container, ["r1", "missing"])
    assert set(got) == {"r1"}
    assert got["r1"]["text"] == "点击链接领取补贴"
    assert got["r1"]["channel"] == "sms"
    assert got["r1"]["identifiers"] == {"url": ["etc-pay.top"]}


def test_drift_job_without_an_active_model_raises_no_alert(container: Container) -> None:
    assert wiring.detector_drift(container) is False


def test_supervision_job_runs_on_an_empty_registry(container: Container) -> None:
    assert wiring.supervision_tasks(container) == (0, 0)


def _tiny_linear_model(reference: dict):
    import numpy as np

    from tierwatch.antifraud.content_features import ContentFeaturizer
    from tierwatch.antifraud.content_text import phrase_bucket
    from tierwatch.antifraud.cues import CUES
    from tierwatch.antifraud.linear_model import LinearReportModel

    f = ContentFeaturizer([phrase_bucket("转账")], ["转账"], [True], [1.0] * (1 + len(CUES)), (2, 3))
    return LinearReportModel(f, np.ones(f.n_features), 0.0, (1.0, 0.0), 0.5, ["loan_credit"],
                             np.zeros((1, f.n_features)), np.zeros(1), 0.5, reference=reference)


def _activate_linear(container: Container, model) -> None:
    from tierwatch.antifraud.model_store import ModelStore

    store = ModelStore(container.settings.models_dir)
    store.activate(store.save("report", model.artefacts(), {"data_fingerprint": "aa11bb"}, kind="linear"))


def test_drift_job_skips_a_linear_model_trained_without_a_reference(container: Container) -> None:
    _activate_linear(container, _tiny_linear_model({}))
    assert wiring.detector_drift(container) is False


def test_drift_job_measures_an_active_linear_model_against_its_reference(container: Container) -> None:
    from tierwatch.antifraud.drift import reference_distribution

    quiet = ["今天下午三点开会"] * 50 + ["周末一起吃饭吗"] * 50
    model = _tiny_linear_model({})
    model.reference = {k: reference_distribution(v) for k, v in model.drift_values(quiet).items()}
    _activate_linear(container, model)
    now = utcnow()
    with container.uow() as uow:  # last week's reports: long transfer requests with links, nothing like the reference
        for i in range(60):
            uow.session.add(Report(report_id=f"d{i}", tracking_code=f"TW-DRIFT{i:05d}", kind="scam", schema_version=1,
                                   description="请立即转账到安全账户，点击链接 https://t.cn/abc 完成验证，" * 3, channel="sms",
                                   reported_at=now, received_at=now))
        uow.commit()
    assert wiring.detector_drift(container) is True
