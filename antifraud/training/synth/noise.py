"""Typos and noise of the kind real reports carry: homophones, swapped or dropped characters,
emoji, full-width digits, text-speak. Applied to scams and benign texts alike."""

from __future__ import annotations

import random

_HOMOPHONES = {
    "的": "得", "在": "再", "账": "帐", "转": "传", "钱": "前", "您": "你", "已": "以",
    "做": "作", "款": "欵", "微信": "VX", "支付宝": "ZFB", "银行卡": "yhk",
}
_TEXT_SPEAK = {"you": "u", "are": "r", "please": "pls", "your": "ur", "money": "$$", "to": "2"}
_EMOJI = ["😊", "🙏", "😭", "❗", "💰", "👍", "😂", "🔥", "[微笑]", "[玫瑰]"]


def add_noise(rng: random.Random, text: str, lang: str) -> str:
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        text = rng.choice(_OPS)(rng, text, lang)
    return text


def _homophone(rng: random.Random, text: str, lang: str) -> str:
    table = _HOMOPHONES if lang == "zh" else _TEXT_SPEAK
    present = [k for k in table if k in text]
    if not present:
        return text
    key = rng.choice(present)
    return text.replace(key, table[key], 1)


def _swap(rng: random.Random, text: str, lang: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _drop(rng: random.Random, text: str, lang: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(len(text))
    return text[:i] + text[i + 1 :]


def _emoji(rng: random.Random, text: str, lang: str) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(_EMOJI) + text[i:]


def _fullwidth_digits(rng: random.Random, text: str, lang: str) -> str:
    return text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


def _spaces(rng: random.Random, text: str, lang: str) -> str:
    if lang == "en":
        return text.lower() if rng.random() < 0.5 else text.upper()
    return " ".join(text) if len(text) < 40 else text.replace("，", " ，  ")


_OPS = [_homophone, _homophone, _swap, _drop, _emoji, _fullwidth_digits, _spaces]
