"""Training the incident severity model (antifraud/incidents.py scores with it) on synthetic
incidents: fit on 70%, calibrate on 15%, evaluate on the last 15%."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import train_test_split

from tierwatch.antifraud.features import bucket_names
from tierwatch.antifraud.heads import Head
from tierwatch.antifraud.incidents import IncidentFeaturizer, IncidentModel, PreparedIncident, prepare_incident
from tierwatch.antifraud.text import hash_batch
from tierwatch.antifraud.training.fitting import fit_booster, temperature, trim_to_best
from tierwatch.antifraud.training.synth.incidents import SEVERITY_ORDER
from tierwatch.antifraud.training.train import select_buckets

PARAMS = {"n_estimators": 80, "max_depth": 4, "eta": 0.2, "subsample": 0.9, "max_bin": 32, "tree_method": "hist", "nthread": 2}


def train_incident_model(rows: list[tuple[dict, str]], seed: int = 0, n_text: int = 300) -> tuple[IncidentModel, dict]:
    """Fit on 70%, calibrate on 15%, report macro-F1 and the confusion matrix on the last 15%."""
    prepared = [prepare_incident(r) for r, _ in rows]
    keep = [i for i, p in enumerate(prepared) if isinstance(p, PreparedIncident)]
    items = [p for p in prepared if isinstance(p, PreparedIncident)]
    y = np.array([SEVERITY_ORDER.index(rows[i][1]) for i in keep])
    idx = np.arange(len(items))
    rest, test = train_test_split(idx, test_size=0.15, stratify=y, random_state=seed)
    train, valid = train_test_split(rest, test_size=0.15 / 0.85, stratify=y[rest], random_state=seed + 1)

    batch = hash_batch([items[i].description for i in train])
    buckets = select_buckets(batch, [(y[train], n_text)], min_df=3)
    featurizer = IncidentFeaturizer(buckets.tolist(), bucket_names(batch, buckets))
    X = featurizer.transform(items)
    booster = fit_booster(X[train], y[train], len(SEVERITY_ORDER), {**PARAMS, "seed": seed}, valid=(X[valid], y[valid]))
    head = Head("severity", trim_to_best(booster), list(SEVERITY_ORDER))
    head.calibration = temperature(head.margins(X[valid]), y[valid])
    pred = head.proba(X[test]).argmax(axis=1)
    evaluation = {
        "severity_macro_f1": float(f1_score(y[test], pred, average="macro")),
        "severity_accuracy": float(np.mean(pred == y[test])),
        "confusion_matrix": confusion_matrix(y[test], pred, labels=range(4)).tolist(),
        "classes": list(SEVERITY_ORDER),
        "n_train": len(train), "n_valid": len(valid), "n_test": len(test),
        "data": "synthetic incidents (antifraud/training/synth/incidents.py)",
    }
    return IncidentModel(featurizer, head), evaluation
