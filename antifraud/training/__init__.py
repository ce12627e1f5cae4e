"""Training the detectors: corpora, synthetic data, training, evaluation, retraining from labels.

Nothing here is imported by the running service (tests/unit/antifraud/test_split.py checks).
"""
