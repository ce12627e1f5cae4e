"""The plain baseline every evaluation reports beside XGBoost: TF-IDF (character 1-3-grams
within word boundaries) + logistic regression, trained on the same split, threshold chosen on
the same validation data the same way."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tierwatch.antifraud.training.fitting import threshold_for_fpr


class Baseline:
    def __init__(self, seed: int = 0):
        self.seed = seed
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=100_000
        )
        self.scam = LogisticRegression(C=10.0, max_iter=300, tol=1e-3, random_state=seed)
        self.scam_type = LogisticRegression(C=10.0, max_iter=300, tol=1e-3, random_state=seed)
        self.threshold = 0.5
        self.type_classes: np.ndarray | None = None

    def fit(
        self,
        texts: list[str],
        y_scam: np.ndarray,
        y_type: np.ndarray,
        valid_texts: list[str],
        y_valid: np.ndarray,
        max_fpr: float,
    ) -> "Baseline":
        self.fit_models(texts, y_scam, y_type)
        self.threshold = threshold_for_fpr(self.predict_scam(valid_texts), y_valid, max_fpr)
        return self

    def fit_models(self, texts: list[str], y_scam: np.ndarray, y_type: np.ndarray) -> "Baseline":
        """The vectorizer, the scam model and the type model (no threshold): the one fit the
        evaluation's baseline and the served linear detector's character model share."""
        X = self.vectorizer.fit_transform(texts)
        self.scam.fit(X, y_scam)
        typed = y_type >= 0
        self.scam_type.fit(X[typed], y_type[typed])
        self.type_classes = self.scam_type.classes_
        return self

    def predict_scam(self, texts: list[str]) -> np.ndarray:
        return self.scam.predict_proba(self.vectorizer.transform(texts))[:, 1]

    def predict_type(self, texts: list[str], n_classes: int) -> np.ndarray:
        """(n, n_classes) probabilities over the full class list (classes unseen in training: 0)."""
        proba = self.scam_type.predict_proba(self.vectorizer.transform(texts))
        out = np.zeros((len(texts), n_classes))
        out[:, self.type_classes] = proba
        return out
