"""Contributions from tabulated decision paths equal XGBoost's own approximate contributions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import xgboost as xgb

from tierwatch.antifraud.saabas import PathTable


def _booster(seed: int, **params: object) -> tuple[xgb.Booster, sp.csr_matrix]:
    rng = np.random.default_rng(seed)
    # Sparse like the detector's features: most entries absent, so splits send them the default way.
    X = sp.random(600, 40, density=0.15, format="csr", random_state=seed, data_rvs=lambda k: rng.integers(1, 4, k))
    y = (X[:, 3].toarray().ravel() + X[:, 7].toarray().ravel() - X[:, 11].toarray().ravel() > 1).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "nthread": 1, **params},
                        xgb.DMatrix(X, label=y), num_boost_round=25)
    return booster, X


@pytest.mark.parametrize("seed,params", [(1, {}), (2, {"max_depth": 6, "min_child_weight": 0.1}),
                                         (3, {"tree_method": "exact"})])
def test_equal_to_xgboost_approx_contributions(seed: int, params: dict) -> None:
    booster, X = _booster(seed, **params)
    expected = booster.predict(xgb.DMatrix(X), pred_contribs=True, approx_contribs=True)[:, :-1]
    got = PathTable(booster).contributions(X)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(expected).sum() > 1  # the model did learn something to explain


def test_empty_batch() -> None:
    booster, X = _booster(4)
    assert PathTable(booster).contributions(X[:0]).shape == (0, X.shape[1])
