"""Controlled vocabularies: code -> (zh-CN label, en label), read-only."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

Labels = Mapping[str, tuple[str, str]]


def vocabulary(**codes: tuple[str, str]) -> Labels:
    return MappingProxyType(codes)
