"""The linear report detector (model kind "linear"): training on a small synthetic corpus, the
model store without pickle, activation beside the XGBoost kind, scoring through the Detector
interface, explanations, the "other / new pattern" type, calibration and channel flips."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tierwatch.antifraud.linear_model import OTHER, LinearReportModel
from tierwatch.antifraud.model_store import ModelStore, ModelStoreError
from tierwatch.antifraud.results import Rejected, Score
from tierwatch.antifraud.scoring import Detector
from tierwatch.antifraud.training.linear_train import LinearConfig, platt, threshold_under_caps, train_linear, type_cut
from tierwatch.antifraud.vocab import CHANNELS, REPORTER_TYPES

SMALL = LinearConfig(k_scam=3000, k_type=1000)
SCAM = {"text": "我是公安局民警，你的身份证涉嫌洗钱，请马上把存款转到安全账户，不要告诉家人", "channel": "phone"}
BENIGN = {"text": "【工商银行】您尾号1234的账户3月1日支出人民币99元，余额1000元。", "channel": "sms"}


@pytest.fixture(scope="module")
def linear_model(corpus) -> LinearReportModel:
    examples, split = corpus
    return train_linear(examples, split, SMALL)


@pytest.fixture
def linear_store(models_dir, linear_model):
    """The shared store (an XGBoost report model active) plus a stored, not yet active, linear one."""
    store = ModelStore(models_dir)
    version = store.save("report", linear_model.artefacts(), {"data_fingerprint": "12abcd"}, kind="linear")
    return store, version


def test_saved_as_json_only_and_loaded_back_the_same(linear_store, linear_model):
    store, version = linear_store
    names = sorted(p.name for p in store.folder(version).iterdir())
    assert names == ["featurizer.json", "linear.json", "meta.json"]
    assert store.kind(version) == "linear" and store.meta(version)["kind"] == "linear"
    loaded = LinearReportModel.from_files(store.load_files(version))
    assert np.array_equal(loaded.w, linear_model.w) and loaded.threshold == linear_model.threshold
    texts = [SCAM["text"], BENIGN["text"]]
    assert np.allclose(loaded.score_texts(texts).probability, linear_model.score_texts(texts).probability)


def test_store_refuses_a_wrong_file_set_and_a_tampered_file(linear_store, linear_model):
    store, version = linear_store
    with pytest.raises(ModelStoreError, match="needs exactly"):
        store.save("report", {"linear.json": b"{}"}, {}, kind="linear")
    with pytest.raises(ModelStoreError, match="unknown report model kind"):
        store.save("report", linear_model.artefacts(), {}, kind="forest")
    (store.folder(version) / "linear.json").write_bytes(b"\x80\x04K\x01.")  # a pickle
    with pytest.raises(ModelStoreError, match="checksum"):
        store.activate(version)


def test_old_detector_serves_until_the_linear_one_is_activated(linear_store):
    store, version = linear_store
    before = Detector.load_active(store.root)
    assert not isinstance(before.report_model, LinearReportModel)
    assert isinstance(before.score_batch([SCAM])[0], Score)
    store.activate(version)
    after = Detector.load_active(store.root)
    assert isinstance(after.report_model, LinearReportModel) and after.report_version == version
    assert after.incident_model is not None  # the incident model is untouched
    store.rollback("report")
    assert not isinstance(Detector.load_active(store.root).report_model, LinearReportModel)


def test_scores_through_the_detector_interface(linear_store):
    store, version = linear_store
    store.activate(version)
    detector = Detector.load_active(store.root)
    scam, benign, empty, wrong = detector.score_batch([SCAM, BENIGN, {"text": "  "}, "not a dict"])
    assert isinstance(scam, Score) and isinstance(benign, Score)
    assert scam.scam_probability > 0.5 > benign.scam_probability
    assert scam.is_scam and not benign.is_scam
    assert scam.model_version == version and scam.ai_technique is None
    assert isinstance(empty, Rejected) and isinstance(wrong, Rejected)
    big = detector.score_batch([SCAM, BENIGN] * 2600, explain=False)  # the two-thread chunked path
    assert [r.scam_probability for r in big[:2]] == [r.scam_probability for r in big[-2:]]


def test_channel_and_reporter_type_do_not_move_the_score(linear_model, corpus):
    examples, split = corpus
    detector = Detector(linear_model, "linear-test")
    sample = [examples[i].report for i in split.test[:200]]
    base = [r.scam_probability for r in detector.score_batch(sample, explain=False)]
    for channel in CHANNELS:
        for reporter in REPORTER_TYPES:
            varied = [dict(r, channel=channel, reporter_type=reporter) for r in sample]
            assert [r.scam_probability for r in detector.score_batch(varied, explain=False)] == base


def test_explanations_name_content_never_pronouns_punctuation_or_missing_fields(linear_model, corpus):
    examples, split = corpus
    detector = Detector(linear_model, "linear-test")
    reports = [examples[i].report for i in split.test[:300]] + [SCAM, BENIGN]
    named = 0
    for result in detector.score_batch(reports):
        for c in result.explanation:
            named += 1
            kind, _, value = c.feature.partition(":")
            assert kind in ("word", "token", "cue", "history"), c
            assert not any(ch in "我你您他她它们的了吗呢" for ch in value if len(value) == 1), c
            assert not any(ch in "!！?？。，,：:（）()" for ch in value), c
            assert "missing" not in c.label_en and "缺失" not in c.label_zh, c
    assert named > 300
    (scam,) = detector.score_batch([SCAM])
    assert any(c.weight > 0 and ("转" in c.label_zh or "安全账户" in c.label_zh or "公安" in c.label_zh or "洗钱" in c.label_zh)
               for c in scam.explanation), scam.explanation


def test_identifier_history_is_context_that_does_not_move_the_score(linear_model):
    from tierwatch.antifraud.reputation import InMemoryReputation

    detector = Detector(linear_model, "linear-test")
    report = dict(SCAM, identifiers={"phone": ["13800138000"]}, reported_at="2025-03-02T10:00:00+08:00")
    earlier = [dict(report, reported_at=f"2025-02-0{d}T10:00:00+08:00") for d in range(1, 4)]
    with_history = detector.score_batch([report], InMemoryReputation.from_reports(earlier))[0]
    without = detector.score_batch([report])[0]
    assert with_history.scam_probability == without.scam_probability
    history = [c for c in with_history.explanation if c.feature.startswith("history:")]
    assert history and "3" in history[0].label_zh and history[0].weight == 0.0


def test_type_is_other_when_no_known_type_is_confident(linear_model):
    (scam,) = Detector(linear_model, "t").score_batch([SCAM])
    assert scam.scam_type in linear_model.type_classes
    strict = dataclasses.replace(linear_model, type_min=1.0)
    (unsure,) = Detector(strict, "t").score_batch([SCAM])
    assert unsure.scam_type == OTHER and unsure.scam_probability == scam.scam_probability


def test_scores_are_not_a_step_function(linear_model, corpus):
    examples, split = corpus
    p = linear_model.score_texts([examples[i].report["text"] for i in split.test]).probability
    assert len(np.unique(np.round(p, 4))) > 50


def test_platt_fits_a_known_logistic_relation():
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 3, 20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(0.5 * margin - 1.0)))).astype(float)
    a, c = platt(margin, y)
    assert a == pytest.approx(0.5, abs=0.05) and c == pytest.approx(-1.0, abs=0.1)


def test_threshold_keeps_every_group_under_its_cap():
    a, b = np.linspace(0, 1, 101), np.linspace(0, 0.5, 51)
    t = threshold_under_caps(np.array([]), {"a": (a, 0.1), "b": (b, 0.02)})
    assert np.mean(a >= t) <= 0.1 and np.mean(b >= t) <= 0.02
    assert np.mean(a >= np.nextafter(a[-11], -1)) > 0.1  # and not higher than needed for a
    assert threshold_under_caps(np.array([]), {}) == 0.5


def test_type_cut_keeps_most_correct_types_above_it():
    pt = np.array([[0.9, 0.1], [0.8, 0.3], [0.2, 0.7], [0.6, 0.95], [0.4, 0.3]])
    yt = np.array([0, 0, 1, 1, -1])
    cut = type_cut(pt, yt, 0.0)
    assert cut == pytest.approx(0.7)


def test_featurizer_refuses_changed_cues(linear_model):
    files = linear_model.artefacts()
    state = json.loads(files["featurizer.json"])
    state["cues"]["urgency"] = ["马上"]
    with pytest.raises(ValueError, match="cue phrases"):
        LinearReportModel.from_files({**files, "featurizer.json": json.dumps(state).encode()})


def test_retraining_from_labels_leaves_an_active_linear_model_alone(linear_store, migrated_sqlite):
    from tierwatch.antifraud.training.retraining import retrain_from_labels
    from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory

    store, version = linear_store
    store.activate(version)
    engine = make_engine(migrated_sqlite)
    try:
        result = retrain_from_labels(UnitOfWork(make_session_factory(engine)), store.root, lambda ids: {})
    finally:
        engine.dispose()
    assert not result.promoted and result.candidate is None and "linear" in result.reason
    assert store.active("report") == version


def test_a_linear_version_is_mirrored_into_the_database(linear_store, migrated_sqlite):
    import sqlalchemy as sa

    from tierwatch.antifraud.models import ModelVersion
    from tierwatch.antifraud.service import sync_model_versions
    from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory

    store, version = linear_store
    store.activate(version)
    engine = make_engine(migrated_sqlite)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            sync_model_versions(uow.session, store)
            uow.commit()
            active = uow.session.scalars(sa.select(ModelVersion).where(ModelVersion.use == "report", ModelVersion.active)).one()
            assert active.version == version and set(active.checksums) == {"meta.json", "featurizer.json", "linear.json"}
    finally:
        engine.dispose()


def test_cli_refuses_a_linear_model_without_real_data_or_for_incidents(tmp_path):
    from click.testing import CliRunner

    from tierwatch.cli.model import model as model_cli

    out = CliRunner().invoke(model_cli, ["train", "--kind", "linear", "--no-real", "--models-dir", str(tmp_path)])
    assert out.exit_code != 0 and "real datasets" in out.output
    out = CliRunner().invoke(model_cli, ["train", "--kind", "linear", "--use", "incident", "--data-dir", str(tmp_path), "--models-dir", str(tmp_path)])
    assert out.exit_code != 0 and "report model" in out.output
    assert not (tmp_path / "registry.json").exists()


def test_drift_reference_is_stored_and_flags_a_shifted_stream_only(linear_store, linear_model, corpus):
    from tierwatch.antifraud.service import linear_drift_report

    store, version = linear_store
    loaded = LinearReportModel.from_files(store.load_files(version))
    assert set(loaded.reference) >= {"scam_probability", "text_length_log10", "n_cues"} and loaded.reference == linear_model.reference
    examples, split = corpus
    similar = [examples[i].report for i in split.test]
    quiet = linear_drift_report(loaded, version, similar)
    assert quiet.n_reports == len(similar) and not quiet.alert, quiet.to_json()
    shifted = [dict(r, text=r["text"] * 6 + " 点击链接 https://t.cn/x 立即转账") for r in similar]
    loud = linear_drift_report(loaded, version, shifted)
    assert loud.alert and {"text_length_log10", "cue=link"} <= {i.name for i in loud.items if i.flagged}
    assert linear_drift_report(loaded, version, [None, {"text": ""}]).n_reports == 0


def test_serving_by_blocks_equals_the_stacked_matrix(linear_model, corpus):
    examples, split = corpus
    texts = [examples[i].report["text"] for i in split.test[:300]]
    assert linear_model.chars is not None and linear_model.chars.n_features > 0
    s = linear_model.score_texts(texts)
    X = linear_model.features(texts)
    assert X.shape[1] == linear_model.n_features and s.Xt.shape[1] == linear_model.chars.n_features
    assert np.allclose(s.probability, linear_model.calibrate(linear_model.margin(X)))
    assert s.scam_type == linear_model.type_names(linear_model.type_proba(X))


def test_served_score_and_type_are_the_baselines_own_fit(linear_model, corpus):
    """The default configuration serves the TF-IDF + LR baseline's scam and type models, fitted by
    the baseline's own code on the same rows: the same margin (before Platt) and the same most
    probable type as the baseline's predictions, report by report."""
    from tierwatch.antifraud.training.baseline import Baseline
    from tierwatch.antifraud.training.linear_train import known_types, labels, served_texts

    examples, split = corpus
    train = [examples[i] for i in split.train]
    types = known_types(train)
    y, yt = labels(train, types)
    base = Baseline(SMALL.seed).fit_models(served_texts(train, SMALL.seed, "train"), y, yt)
    texts = [examples[i].report["text"] for i in split.test] + [SCAM["text"], BENIGN["text"]]
    p = base.predict_scam(texts)
    margin = linear_model.margin(linear_model.features(texts))
    assert np.allclose(margin, np.log(p) - np.log1p(-p), atol=1e-8)
    ours = linear_model.type_proba(linear_model.features(texts))
    assert np.allclose(ours, base.predict_type(texts, len(types)), atol=1e-10)
    assert linear_model.type_link == "softmax" and not linear_model.uses_content


def test_content_columns_are_not_computed_when_the_score_does_not_use_them(linear_model, corpus, monkeypatch):
    examples, split = corpus
    texts = [examples[i].report["text"] for i in split.test[:50]]
    calls = []
    original = linear_model.featurizer.transform
    monkeypatch.setattr(linear_model.featurizer, "transform", lambda *a, **k: calls.append(1) or original(*a, **k))
    quick = linear_model.score_texts(texts, explain=False)
    assert quick.X is None and not calls
    assert np.array_equal(quick.probability, linear_model.score_texts(texts).probability)


def test_character_reasons_add_up_to_what_moved_the_score(linear_model, corpus):
    """Each text's character contributions (what the reasons are summed from) add up to the
    character part of its calibrated log-odds, less the padding space's (a space is not content)."""
    from tierwatch.antifraud.char_grams import gram_key
    from tierwatch.antifraud.char_reasons import _char_contributions

    examples, split = corpus
    texts = [examples[i].report["text"] for i in split.test[:200]] + [SCAM["text"], BENIGN["text"]]
    m = linear_model
    Xt = m.chars.transform(texts)
    w = m._char_weights()[0] * m.platt[0]
    per_char, starts, _ = _char_contributions(m.chars, texts, Xt, w)
    totals = np.add.reduceat(per_char, starts)
    space = m.chars.columns(np.array([gram_key(" ")], dtype=np.uint64))[0]
    expected = np.asarray(Xt @ w).ravel() - (Xt[:, space].toarray().ravel() * w[space] if space >= 0 else 0.0)
    assert np.allclose(totals, expected, atol=1e-9)


def test_a_stack_with_content_weight_computes_and_names_content(corpus):
    examples, split = corpus
    stacked = train_linear(examples, split, dataclasses.replace(SMALL, stack_mix=0.8, type_fit="joint"))
    assert stacked.uses_content and stacked.type_link == "sigmoid"
    texts = [examples[i].report["text"] for i in split.test[:100]]
    s = stacked.score_texts(texts, explain=False)
    assert s.X is not None and s.X.shape[1] == stacked.featurizer.n_features
    reasons = stacked.explain(s)
    assert sum(len(r) for r in reasons) > 50


def test_a_character_reason_names_a_word_never_a_pronoun_particle_punctuation_or_lone_character():
    from tierwatch.antifraud.char_reasons import name_word

    for word in ("我们", "你的", "了吗", "！", "，", "）", "转", "的", "you", "the", "4821", "x"):
        assert name_word(word) is None, word
    assert name_word("安全账户")[0] == "word:安全账户"
    assert name_word("转账")[1].startswith("要求转账或付款")  # the cue the word belongs to
    assert name_word("parcel")[0] == "word:parcel"
    assert name_word("13812345678")[0] == "token:zzmobile"
    assert name_word("http://abc.top/x")[0] == "token:zzurl"
