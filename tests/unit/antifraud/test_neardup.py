"""Near-duplicate families and the split that keeps each family in one part."""

from __future__ import annotations

import random

import numpy as np

from tierwatch.antifraud.training.corpus import split_corpus
from tierwatch.antifraud.training.datasets import Example, _report
from tierwatch.antifraud.training.neardup import families

NOTICE = "【某某银行】您尾号{}的储蓄卡于{}月{}日消费人民币{}元，当前余额{}元，如非本人操作请致电客服热线。"
HAN = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈剑号巨阙珠称夜光果珍李柰菜重芥姜"
SCRIPT = "你好，我是{}，你的快递在运输途中丢失了，我们将按照三倍赔偿，请加我微信处理理赔{}事宜"


def test_template_variants_are_one_family_and_different_texts_are_not():
    rng = random.Random(0)
    notices = [NOTICE.format(rng.randint(1000, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(1, 999), rng.randint(1, 99999)) for _ in range(5)]
    scripts = [SCRIPT.format(name, rng.randint(1, 99)) for name in ("张伟", "王芳", "李娜")]
    other = ["今晚七点小区停水，请提前储水，给您带来不便敬请谅解", "您的验证码是，五分钟内有效，请勿告诉他人"]
    fam = families(notices + scripts + other)
    assert len(set(fam[:5].tolist())) == 1  # digits differ only: one family
    assert len(set(fam[5:8].tolist())) == 1  # a name swapped: one family
    assert fam[0] != fam[5] and len({fam[0], fam[5], fam[8], fam[9]}) == 4


def test_short_texts_join_only_when_identical_in_core():
    fam = families(["好的谢谢", "好的谢谢！", "好的多谢"])
    assert fam[0] == fam[1] != fam[2]


def test_no_family_straddles_the_split():
    rng = random.Random(1)
    examples = []
    for k in range(60):  # 60 families of 4 near-identical texts, plus 200 single texts
        base = "".join(rng.choice(HAN) for _ in range(16)) + "请回复确认办理业务"
        for v in range(4):
            examples.append(Example(_report(base + "，编号" + str(rng.randint(100, 999)) + "号" * v, "s"), 0, source="s", subset="ham"))
    for k in range(200):
        text = "".join(rng.choice(HAN) for _ in range(20))
        examples.append(Example(_report(text, "s"), 0, source="s", subset="ham"))
    fam = families([e.report["text"] for e in examples])
    assert len(set(fam[:240].tolist())) == 60
    split = split_corpus(examples, seed=3)
    part = np.empty(len(examples), dtype=object)
    for name in ("train", "valid", "test"):
        part[getattr(split, name)] = name
    for f in set(fam.tolist()):
        assert len(set(part[fam == f].tolist())) == 1
    assert 0.12 < len(split.test) / len(examples) < 0.28 and len(split.valid) > 0.08 * len(examples)
    flat = split_corpus(examples, seed=3, near_duplicates=False)
    assert any(len(set(part_of(flat, np.flatnonzero(fam == f)))) > 1 for f in set(fam[:240].tolist()))


def part_of(split, idx):
    names = {}
    for name in ("train", "valid", "test"):
        for i in getattr(split, name).tolist():
            names[i] = name
    return [names[i] for i in idx.tolist()]
