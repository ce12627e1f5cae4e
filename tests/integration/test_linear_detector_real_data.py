"""The linear detector (issue 15) on the real datasets, measured on the served path.

Trains once through the product's CLI (`tierwatch model train --kind linear`: about 1-2 minutes
with its evaluation),
evaluates the stored model scored the way the worker scores (schema -> prepare -> scorer), and
checks the issue's targets beside the TF-IDF + LR baseline, the flip rate, the explanations on
held-out reports, and that the evaluation path and the worker's own store.persist give the
same scores for the same reports.
"""

from __future__ import annotations

import json
import random
import re

import pytest
import sqlalchemy as sa

from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.scoring import Detector
from tierwatch.antifraud.training.report_bodies import wrap_all
from tierwatch.detector_eval import LinearOutcome, load_corpus
from tierwatch.monitoring.scoring import DetectorScorer
from tierwatch.monitoring.served_eval import prepared_all, score_prepared

pytestmark = [pytest.mark.data, pytest.mark.slow]

PRONOUNS = set("我你您他她它咱们")
EN_PRONOUNS = {"i", "me", "my", "you", "your", "he", "him", "his", "she", "her", "it", "its", "we", "us", "our", "they", "them", "their"}
EPS = 1e-9  # float rounding only (Platt over the same margin, summed in another order)
PUNCTUATION = re.compile(r"[!！?？。，,、：:；;（）()【】\[\]“”\"'…~～]")


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    """`tierwatch model train --kind linear`, as an operator runs it."""
    from click.testing import CliRunner

    from tierwatch.cli.model import model as model_cli

    root = tmp_path_factory.mktemp("models")
    out = CliRunner().invoke(model_cli, ["train", "--kind", "linear", "--data-dir", str(shared_data), "--models-dir", str(root), "--activate"])
    assert out.exit_code == 0, out.output
    assert "served_pr_auc" in out.output and "registered report-" in out.output
    version = ModelStore(root).active("report")
    folder = ModelStore(root).folder(version)
    evaluation = json.loads((folder / "evaluation" / "evaluation.json").read_text(encoding="utf-8"))
    outcome = LinearOutcome(version, evaluation, folder / "evaluation" / "index.html", True)
    examples, split = load_corpus(shared_data, 0)
    return root, outcome, examples, split


def test_served_path_targets(trained):
    doc = trained[1].evaluation
    ours, base = doc["served_path"]["linear"], doc["served_path"]["baseline"]
    assert ours["pr_auc"] >= 0.99
    assert ours["recall"] >= 0.95
    # the line: not below the baseline on any threshold-free measure on this split. No
    # tolerance beyond float rounding: a model that merely resembles the baseline can be 0.0001 below.
    for measure in ("pr_auc", "roc_auc", "pr_auc_scams_vs_real_sms"):
        assert ours[measure] >= base[measure] - EPS, (measure, ours[measure], base[measure])
    types, base_types = doc["scam_type"]["linear"], doc["scam_type"]["baseline"]
    assert types["macro_f1_argmax"] >= base_types["macro_f1_argmax"] - EPS, (types, base_types)
    assert types["macro_f1"] >= 0.95 and types["named_other"] < 0.02
    # the configuration chosen on validation (model card): the baseline's own scam and type models
    assert doc["configuration"]["stack_weights"] == [0.0, 1.0] and doc["configuration"]["type_fit"] == "baseline"


def test_false_positives_on_real_legitimate_sms(trained):
    fpr = trained[1].evaluation["fpr_by_kind"]["linear"]
    assert fpr["real_legitimate_sms"]["n"] > 3000
    assert fpr["real_legitimate_sms"]["rate"] <= 0.02
    assert fpr["lookalike:any"]["n"] > 100
    assert fpr["lookalike:any"]["rate"] <= 0.05


def test_channel_and_reporter_type_do_not_flip_decisions(trained):
    flips = trained[1].evaluation["flips"]["linear"]
    assert flips["channel"]["n"] >= 1000 and flips["channel"]["variants"] == 7
    assert flips["channel"]["rate"] <= 0.01
    assert flips["reporter_type"]["rate"] <= 0.01


def test_scores_are_calibrated_and_resolved(trained):
    rel = trained[1].evaluation["reliability"]["linear"]
    # not a step function (scores are stored to 4 decimals; most legitimate texts round to 0.0000)
    assert rel["distinct_scores"] >= 100
    assert rel["top_decile_distinct_scores"] >= 50
    assert rel["ece"] <= 0.02
    assert rel["top_decile_ece"] <= 0.05


def test_page_shows_served_figures_baseline_and_reliability(trained):
    page = trained[1].page
    text = page.read_text(encoding="utf-8")
    assert "baseline TF-IDF+LR" in text and "real_legitimate_sms" in text and "reliability.png" in text
    assert (page.parent / "reliability.png").stat().st_size > 1000


def test_explanations_name_content_only(trained):
    root, _, examples, split = trained
    detector = Detector.load_active(root)
    test = [examples[i] for i in split.test]
    sample = random.Random(1).sample(test, 1500)
    results = detector.score_batch([e.report for e in sample], explain=True)
    named = 0
    for r in results:
        for c in r.explanation:
            named += 1
            kind, _, value = c.feature.partition(":")
            assert kind in ("word", "token", "cue", "history"), c
            assert not all(ch in PRONOUNS for ch in value), c
            assert value.lower() not in EN_PRONOUNS, c
            assert not PUNCTUATION.search(value), c
            assert "missing" not in c.label_en and "缺失" not in c.label_zh, c
    assert named > 1000


def test_flagged_scams_get_a_type_or_other(trained):
    root, _, examples, split = trained
    detector = Detector.load_active(root)
    types = set(detector.report_model.type_classes) | {"other"}
    scams = [examples[i] for i in split.test if examples[i].is_scam][:300]
    results = detector.score_batch([e.report for e in scams], explain=False)
    assert {r.scam_type for r in results} <= types
    assert sum(r.scam_type == e.scam_type for r, e in zip(results, scams)) >= 0.8 * len(scams)


def test_evaluation_path_equals_worker_path(trained, migrated_sqlite):
    """The evaluation's scores are the ones the worker stores: the same report bodies through
    served_eval and through monitoring.store.persist into a migrated database."""
    from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
    from tierwatch.monitoring.linking import ApplicationLinker
    from tierwatch.monitoring.models import Report
    from tierwatch.monitoring.store import persist

    root, _, examples, split = trained
    test = [examples[i] for i in split.test]
    rows = random.Random(2).sample(test, 2500)
    bodies = wrap_all([e.report["text"] for e in rows], seed=11)
    scorer = DetectorScorer(Detector.load_active(root))
    items = prepared_all(bodies)
    evaluated = score_prepared(scorer, items)
    engine = make_engine(migrated_sqlite)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            for start in range(0, len(items), 2000):  # the worker's batch size
                persist(uow.session, items[start : start + 2000], scorer, ApplicationLinker(lambda: []), items[0].row["received_at"])
            uow.commit()
        t = Report.__table__
        with engine.connect() as conn:
            stored = {r.report_id: r for r in conn.execute(sa.select(t.c.report_id, t.c.scam_probability, t.c.is_scam, t.c.scam_type))}
    finally:
        engine.dispose()
    assert len(stored) == len(items)
    differ = [(p.report_id, s, stored[p.report_id]) for p, s in zip(items, evaluated)
              if (stored[p.report_id].scam_probability, stored[p.report_id].is_scam, stored[p.report_id].scam_type)
              != (s.scam_probability, s.is_scam, s.scam_type)]
    assert not differ, differ[:3]
    assert len({s.scam_probability for s in evaluated}) > 50  # the comparison is not between constants


def test_the_store_holds_no_pickle_and_activation_reaches_the_worker_scorer(trained):
    from tierwatch.monitoring.scoring import ActiveModelScorer

    root, outcome, _, _ = trained
    store = ModelStore(root)
    folder = store.folder(outcome.version)
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["featurizer.json", "linear.json", "meta.json"]
    assert store.kind(outcome.version) == "linear"
    assert ActiveModelScorer(root).version == outcome.version


def test_types_never_trained_on_are_caught_and_some_named_other(trained):
    """The issue's leave-one-type-out line: each known type left out of training and validation
    in turn is still flagged (recall >= 90% at the operating threshold), ranks high against the
    test's real legitimate SMS, and the type head names part of it "other / new pattern"."""
    from tierwatch.detector_eval import leave_one_type_out

    _, _, examples, split = trained
    loto = leave_one_type_out(examples, split, 0)
    assert set(loto["linear"]) == {"fake_customer_service", "impersonate_acquaintance", "impersonate_authority", "loan_credit"}
    for held, ours in loto["linear"].items():
        assert ours["n"] >= 100, held
        assert ours["recall"] >= 0.9, (held, ours)
        assert ours["roc_auc_vs_real_sms"] >= 0.97, (held, ours)
        # not below the baseline retrained without the same type (threshold-free)
        assert ours["roc_auc_vs_real_sms"] >= loto["baseline"][held]["roc_auc_vs_real_sms"] - EPS, (held, ours, loto["baseline"][held])
        assert ours["pr_auc_vs_real_sms"] >= loto["baseline"][held]["pr_auc_vs_real_sms"] - EPS, (held, ours, loto["baseline"][held])
        assert ours["named_other"] > 0.05, (held, ours)  # a new pattern is not always forced into an old type
        assert loto["baseline"][held]["n"] == ours["n"]
