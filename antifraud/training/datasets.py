"""Loaders for the real labelled datasets in ../shared/data (read in place, never copied).

Every loader returns ``Example`` rows. The published texts carry masking artefacts that differ
by class (telecom_fraud_texts_5 writes DIGIT/PLACE/URL only in its normal class, China Mobile
SMS write every digit as x); a detector would learn those instead of scams. ``unmask`` turns each
placeholder into the kind of text it stands for, the same way for every class, before training.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tierwatch.antifraud.vocab import SCAM_TYPES

TELECOM = "telecom_fraud_texts_5"
CMCC = "cmcc_sms_spam_subtypes"
UCI = "uci_sms_spam"
CN_HAM = "cn_sms_ham"
MUDOU = "mudou_sms"
# Look-alike categories of legitimate SMS: the false-positive rate is reported for each.
LOOKALIKE_CUES = {
    "verification_code": re.compile(r"验证码|校验码|动态码|动态密码|激活码|确认码"),
    "bank": re.compile(r"银行|信用卡|储蓄卡|借记卡|尾号\d{3,4}|网银|账户|余额|转账|还款"),
    "courier": re.compile(r"快递|包裹|物流|派件|取件|签收|运单|顺丰|圆通|中通|申通|韵达|菜鸟|驿站|EMS"),
    "customer_service": re.compile(r"客服|热线|售后|退款|理赔|投诉"),
}

TELECOM_TYPES = {
    "1": "impersonate_authority",
    "2": "loan_credit",
    "3": "fake_customer_service",
    "4": "impersonate_acquaintance",
}
CMCC_FRAUD_TYPES = {"loan_fraud": "loan_credit", "bank_impersonation_transfer_fraud": "other"}


@dataclass
class Example:
    """A labelled report: the report dict the detector sees, plus its labels and origin."""

    report: dict
    is_scam: int
    scam_type: str | None = None
    ai_technique: str | None = None
    source: str = ""
    subset: str = ""  # e.g. the CMCC subtype, "ham", or a synthetic template family
    tags: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scam_type is not None and self.scam_type not in SCAM_TYPES:
            raise ValueError(f"unknown scam type {self.scam_type!r}")


_CITIES = "北京 上海 广州 深圳 杭州 成都 武汉 南京 西安 重庆 天津 苏州 长沙 郑州 东莞 佛山 厦门 合肥 济南 昆明".split()
_NAMES = "张伟 王芳 李娜 刘洋 陈静 杨磊 黄敏 赵强 周杰 吴霞 孙丽 马超".split()
_URL_TOKEN = re.compile(r"\[(?:URL|url|链接|网址|插入URL)[^\]]{0,8}\]|URL[a-z]{0,8}")
_PHONE_TOKEN = re.compile(r"CELLPHONE|PHONE|HOTLINE")
_XRUN = re.compile(r"(?<![A-Za-z])[xX]+(?![A-Za-z])")
_SLOT = re.compile(r"\[([\u4e00-\u9fffA-Z]{1,8})\]")


def unmask(text: str, rng: random.Random) -> str:
    """Replace dataset placeholders with plausible values (same rule for every class)."""
    text = _URL_TOKEN.sub(lambda m: "https://t.cn/" + _letters(rng, 6), text)
    text = _PHONE_TOKEN.sub(lambda m: "1" + _digits(rng, 10), text)
    text = text.replace("NAMEDIGIT", "DIGIT").replace("WECHAT", "微信")
    text = re.sub(r"DIGIT|DIGI", lambda m: str(rng.randint(1, 999)), text)
    text = re.sub(r"PLACE|PLCE", lambda m: rng.choice(_CITIES), text)
    text = text.replace("NAME", "")
    text = _SLOT.sub(lambda m: _slot(m.group(1), rng), text)
    # x / X runs outside Latin words mask digits (CMCC) or names/numbers (telecom): make them digits
    return _XRUN.sub(lambda m: _digits(rng, len(m.group(0))), text)


def _slot(inner: str, rng: random.Random) -> str:
    if inner in ("URL", "DIGIT", "PLACE"):
        return rng.choice(_CITIES)
    return inner if re.search(r"[\u4e00-\u9fff]", inner) else ""


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


_KEY_STRIP = re.compile(r"[\W\dxX_]+")


def key_core(text: str) -> str:
    """The text as duplicate detection sees it: no masks, digits, spaces or punctuation."""
    return _KEY_STRIP.sub("", text.lower())


def text_key(text: str) -> str:
    """A duplicate key that ignores masks, digits, spaces and punctuation."""
    return hashlib.sha1(key_core(text).encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _report(text: str, source: str) -> dict:
    # The real sets carry text only; the structured fields stay unknown (None), as they would
    # for a forwarded SMS with no form filled in.
    return {
        "text": text,
        "channel": "sms" if source != TELECOM else None,
        "amount_lost": None,
        "ai_technique": None,
        "region": None,
        "reported_at": None,
        "reporter_type": None,
        "identifiers": {},
    }


def load_telecom(data_dir: Path, seed: int = 0) -> list[Example]:
    rng = random.Random(seed)  # nosec B311 # reproducible sampling of training data; not security
    path = data_dir / TELECOM / f"{TELECOM}.csv"
    out = []
    for row in _csv_rows(path):
        label = row["label_id"]
        text = unmask(row["text"], rng)
        out.append(
            Example(
                _report(text, TELECOM),
                is_scam=int(label != "0"),
                scam_type=TELECOM_TYPES.get(label),
                source=TELECOM,
                subset="normal" if label == "0" else TELECOM_TYPES[label],
            )
        )
    return out


def load_cmcc(data_dir: Path, seed: int = 0) -> list[Example]:
    """Advertising subtypes and ham as negatives; the two fraud subtypes as (noisy) positives."""
    rng = random.Random(seed)  # nosec B311 # reproducible sampling of training data; not security
    out = []
    for row in _csv_rows(data_dir / CMCC / "cmcc_spam_6subtypes.csv"):
        fraud = row["is_fraud"] == "1"
        out.append(
            Example(
                _report(unmask(row["text"], rng), CMCC),
                is_scam=int(fraud),
                scam_type=CMCC_FRAUD_TYPES.get(row["subtype_en"]) if fraud else None,
                source=CMCC,
                subset=row["subtype_en"],
            )
        )
    for row in _csv_rows(data_dir / CMCC / "cmcc_labeled_sample_307.csv"):
        if row["label"] == "0":
            out.append(Example(_report(unmask(row["text"], rng), CMCC), 0, source=CMCC, subset="ham"))
    return out


def load_uci(data_dir: Path, label: str = "ham") -> list[Example]:
    """UCI ham (ordinary English SMS) as negatives. label="spam" gives the spam rows, which are
    premium-rate marketing and prize bait rather than a labelled scam class: evaluation only."""
    out = []
    with open(data_dir / UCI / "SMSSpamCollection.tsv", encoding="utf-8") as fh:
        for line in fh:
            tag, _, text = line.rstrip("\n").partition("\t")
            if tag == label:
                out.append(Example(_report(text, UCI), 0, source=UCI, subset=tag))
    return out


def lookalike_of(text: str) -> tuple[str, ...]:
    return tuple(name for name, pattern in LOOKALIKE_CUES.items() if pattern.search(text))


def load_real_ham(data_dir: Path, seed: int = 0, max_ordinary: int | None = 15_000) -> list[Example]:
    """Real legitimate Chinese SMS (cn_sms_ham: a China Mobile sample and one real inbox of bank,
    payment, code, carrier and order notices), the hard negatives. Subset "indexed" marks the
    rows of the set's look-alike keyword index; tags carry the look-alike categories. Ordinary
    cn_sms_ham rows beyond ``max_ordinary`` are left out (a seeded sample), to bound training time."""
    rng = random.Random(seed)  # nosec B311 # reproducible sampling of training data; not security
    folder = data_dir / CN_HAM
    out: list[Example] = []
    for name, source, index in (("cn_sms_ham.csv", CN_HAM, "hard_negatives_index.csv"), ("mudou_sms.csv", MUDOU, "mudou_hard_negatives_index.csv")):
        indexed = {int(r["row"]) for r in _csv_rows(folder / index)}
        rows = []
        for i, row in enumerate(_csv_rows(folder / name)):
            text = row["text"].strip()
            if row["label"] != "ham" or not text:
                continue
            text = unmask(text, rng)
            subset = "indexed" if i in indexed else "ordinary"
            rows.append(Example(_report(text, source), 0, source=source, subset=subset, tags={"lookalike": list(lookalike_of(text))}))
        ordinary = [e for e in rows if e.subset == "ordinary"]
        if source == CN_HAM and max_ordinary is not None and len(ordinary) > max_ordinary:
            keep = {id(e) for e in rng.sample(ordinary, max_ordinary)}
            rows = [e for e in rows if e.subset == "indexed" or id(e) in keep]
        out += rows
    return out


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def available(data_dir: Path | None) -> bool:
    return bool(data_dir) and (data_dir / TELECOM).is_dir()  # type: ignore[operator]
