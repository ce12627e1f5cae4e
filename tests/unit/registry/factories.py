"""Test data for the registry: a migrated store, two companies with users, regulator accounts,
and complete filings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shutil

import pytest

from tierwatch.registry import accounts
from tierwatch.core.actors import Actor, actor_of
from tierwatch.registry.schemas import CompanyIn, UserIn
from tierwatch.core.settings import load_settings
from tierwatch.bootstrap import Container, build

# Real unified social credit codes (public business-licence data), valid check digits.
TENCENT_SZ = "91440300708461136T"
HUAWEI = "914403001922038216"
BAIDU = "91110108551385082Q"
PASSWORD = "correct horse battery"


def full_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "粤智客服助手",
        "version": "1.0",
        "description": "面向电商平台的智能客服，根据用户咨询生成文本回答。",
        "scenario": "在线客服",
        "deployment_channels": ["app", "web"],
        "models": [{"name": "混元", "filing_number": "Guangdong-HunYuan-20230831"}],
        "capabilities": ["text_generation"],
        "domain": "ecommerce",
        "monthly_active_users": 120000,
        "regions": ["广东省"],
        "audiences": ["general"],
        "personal_info": [],
        "cross_border_transfer": False,
        "public_opinion_attributes": False,
        "human_oversight": "on_request",
        "content_labelling": True,
        "security_assessment_done": True,
    }
    fields.update(overrides)
    return fields


@dataclass
class World:
    admin: Actor
    regulator: Actor
    analyst: Actor
    a: Actor  # user of company A
    b: Actor  # user of company B
    partner: Actor  # a partner feed's account
    company_a: int
    company_b: int


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, "World"]:
    """A migrated database holding the world, built once; each test gets a copy (argon2 and
    the migrations are the slow part)."""
    from tierwatch.core.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "registry.db"
    upgrade(f"sqlite:///{path}")
    c = _container(path, path.parent)
    world = make_world(c)
    with c.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    return path, world


def _container(db: Path, data_dir: Path) -> Container:
    return build(load_settings(database_url=f"sqlite:///{db}", data_dir=data_dir, secret_key="k" * 32))


@pytest.fixture
def container(_template: tuple[Path, "World"], tmp_path: Path) -> Iterator[Container]:
    db = tmp_path / "registry.db"
    shutil.copyfile(_template[0], db)
    # the key ring too: the template's audit entries are keyed with its audit key
    shutil.copytree(_template[0].parent / "keys", tmp_path / "keys")
    c = _container(db, tmp_path)
    yield c
    c.close()


def make_world(container: Container) -> World:
    system = Actor.system("test")
    with container.uow() as uow:
        a = accounts.create_company(uow, system, CompanyIn(name="深圳市腾讯计算机系统有限公司", credit_code=TENCENT_SZ))
        b = accounts.create_company(uow, system, CompanyIn(name="华为技术有限公司", credit_code=HUAWEI))
        users = {}
        for key, role, company in (("admin", "admin", None), ("regulator", "regulator", None),
                                   ("analyst", "analyst", None), ("a", "company", a.id),
                                   ("b", "company", b.id), ("partner", "partner", None)):
            user = accounts.create_user(uow, system, UserIn(
                email=f"{key}@example.cn", name=key, password=PASSWORD, role=role, company_id=company))
            users[key] = actor_of(user)
        uow.commit()
        return World(**users, company_a=a.id, company_b=b.id)


@pytest.fixture
def world(_template: tuple[Path, World], container: Container) -> World:
    return _template[1]


RULE_FILES = ("rules/cn-gd.yaml", "rules/eu-ai-act.yaml")


def activate_shipped_rules(container: Container) -> None:
    """Make both shipped rule sets active (re-tiers whatever is filed so far)."""
    from tierwatch.registry.service import iter_current_applications
    from tierwatch.risk import service as risk_service

    repo = Path(__file__).resolve().parents[3]
    for name in RULE_FILES:
        with container.uow() as uow:
            risk_service.activate_ruleset(uow, repo / name, Actor.system("test"),
                                          iter_current_applications(uow))
            uow.commit()
