"""The training corpus: real datasets where present plus synthetic reports, deduplicated,
split stratified and reproducibly, with length augmentation on the training part only."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tierwatch.antifraud.training import datasets, neardup
from tierwatch.antifraud.training.datasets import Example, text_key
from tierwatch.antifraud.training.synth.generate import generate_reports


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def build_corpus(data_dir: Path | None, synthetic: int = 6000, seed: int = 0, real_ham: bool = False) -> list[Example]:
    """Real negatives and positives (without the CMCC fraud subtypes, kept for generalisation
    tests) plus ``synthetic`` generated reports; duplicate texts are kept once, conflicting
    labels dropped. ``real_ham`` adds the real legitimate SMS of cn_sms_ham (hard negatives)."""
    examples: list[Example] = []
    if data_dir is not None and datasets.available(data_dir):
        examples += datasets.load_telecom(data_dir, seed)
        examples += [e for e in datasets.load_cmcc(data_dir, seed) if not e.is_scam]
        examples += datasets.load_uci(data_dir)
        if real_ham and (data_dir / datasets.CN_HAM).is_dir():
            examples += datasets.load_real_ham(data_dir, seed)
    if synthetic:
        examples += generate_reports(synthetic, seed)
    return dedupe(examples)


def dedupe(examples: list[Example]) -> list[Example]:
    labels: dict[str, set] = {}
    for e in examples:
        labels.setdefault(text_key(e.report["text"]), set()).add((e.is_scam, e.scam_type))
    seen: set[str] = set()
    out = []
    for e in examples:
        key = text_key(e.report["text"])
        if key in seen or len(labels[key]) > 1:
            continue
        seen.add(key)
        out.append(e)
    return out


def stratum(e: Example) -> str:
    return f"{e.source}:{e.scam_type if e.is_scam else e.subset}"


def split_corpus(examples: list[Example], seed: int = 0, valid: float = 0.15, test: float = 0.2,
                 near_duplicates: bool = True) -> Split:
    """Train / validation (early stopping, calibration, thresholds) / test (reported only).

    Whole near-duplicate families (``neardup.families``: MinHash over character shingles) go to
    one part, so no template family straddles train and test. Stratified by source and class
    (a family by its first member), and stable: within each stratum families are ordered by a
    seeded hash of their smallest text key, and families fill test up to the ``test`` share of
    the stratum's examples, then validation up to ``valid``. Adding data (analysts' labels)
    moves only families at the boundaries, so a retrained model and the active one are compared
    on data neither trained on."""
    keys = [text_key(e.report["text"]) for e in examples]
    family = neardup.families([e.report["text"] for e in examples]) if near_duplicates else np.arange(len(examples))
    members_of: dict[int, list[int]] = {}
    for i, f in enumerate(family.tolist()):
        members_of.setdefault(f, []).append(i)
    strata: dict[str, list[tuple[str, list[int]]]] = {}
    for members in members_of.values():
        rank = hashlib.sha256(f"{seed}|{min(keys[i] for i in members)}".encode()).hexdigest()
        strata.setdefault(stratum(examples[members[0]]), []).append((rank, members))
    parts: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    for groups in strata.values():
        groups.sort()
        total = sum(len(m) for _, m in groups)
        done = 0
        for _, members in groups:
            # a family goes where its first example would go in a split of single texts
            part = "test" if done < round(total * test) else "valid" if done < round(total * (test + valid)) else "train"
            parts[part] += members
            done += len(members)
    return Split(*(np.array(sorted(parts[p]), dtype=np.int64) for p in ("train", "valid", "test")))


def augment_lengths(examples: list[Example], seed: int = 0, crop: float = 0.25, join: float = 0.15) -> list[Example]:
    """Break the link between length and label in the real data: short windows of scam texts
    (still labelled scam) and long concatenations of benign texts from the same source."""
    rng = random.Random(seed)  # nosec B311 # reproducible sampling of training data; not security
    out = []
    by_source: dict[str, list[Example]] = {}
    for e in examples:
        if not e.is_scam:
            by_source.setdefault(e.source, []).append(e)
    for e in examples:
        text = e.report["text"]
        if e.is_scam and len(text) >= 80 and rng.random() < crop:
            size = rng.randint(30, int(len(text) * 0.6))
            start = rng.randint(0, len(text) - size)
            out.append(_variant(e, text[start : start + size], "crop"))
        elif not e.is_scam and rng.random() < join:
            pool = by_source[e.source]
            parts = [text] + [rng.choice(pool).report["text"] for _ in range(rng.randint(1, 2))]
            sep = " " if e.source == datasets.UCI else rng.choice(["", "。", "\n"])
            out.append(_variant(e, sep.join(parts), "join"))
    return out


def _variant(e: Example, text: str, how: str) -> Example:
    return Example(
        dict(e.report, text=text), e.is_scam, e.scam_type, e.ai_technique, e.source, e.subset, {**e.tags, "augmented": how}
    )


def fingerprint(examples: list[Example], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for e in examples:
        h.update(f"{text_key(e.report['text'])}|{e.is_scam}|{e.scam_type}|{e.ai_technique}\n".encode())
    return h.hexdigest()
