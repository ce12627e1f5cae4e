"""reporter_key: the same person, however they typed their contact, gets the same keyed hash;
nobody gets their contact back from it without the key."""

from __future__ import annotations

from tierwatch.monitoring.reporters import contact_key as reporter_key

KEY, OTHER_KEY = b"k" * 32, b"o" * 32


def test_one_person_one_key_whatever_the_spelling() -> None:
    spellings = [{"phone": "138 1234 5678"}, {"phone": "+86 13812345678"}, {"phone": "13812345678", "name": "张三"}]
    keys = {reporter_key(c, KEY) for c in spellings}
    assert len(keys) == 1 and len(next(iter(keys))) == 32  # type: ignore[arg-type]
    assert "13812345678" not in next(iter(keys))  # type: ignore[operator]
    assert reporter_key({"email": " Zhang.San@Example.CN "}, KEY) == reporter_key({"email": "zhang.san@example.cn"}, KEY)


def test_others_and_other_keys_differ_and_a_name_is_nobody() -> None:
    assert reporter_key({"phone": "13812345678"}, KEY) != reporter_key({"phone": "13812345679"}, KEY)
    assert reporter_key({"phone": "13812345678"}, KEY) != reporter_key({"phone": "13812345678"}, OTHER_KEY)
    assert reporter_key({"name": "张三"}, KEY) is None
