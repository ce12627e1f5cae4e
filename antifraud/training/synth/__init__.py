"""Synthetic labelled reports and incidents (see generate.py)."""
