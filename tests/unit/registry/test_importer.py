from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tierwatch.registry.import_maps import infer_capabilities, infer_domain
from tierwatch.registry.importer import ImportFileError, run_import
from tierwatch.registry.models import Application, ApplicationVersion, Company

CAC = "cn_cac_ai_filings_sample"
DEEP = f"{CAC}/cac_deep_synthesis_algorithm_filings_batch1_full_batch2_partial.csv"
GENAI = f"{CAC}/cac_genai_service_filings_2024-04_rows1-114.csv"


@pytest.mark.parametrize("text, domain", [
    ("根据用户症状提供在线问诊建议", "healthcare"),
    ("面向中小学生的作业辅导", "education"),
    ("Het algoritme helpt zorgverleners bij de triage van patiënten", "healthcare"),
    ("Het doel is zorgvuldig en snel te werken", "other"),  # "zorg" inside a word is not care
    ("Risicomodel voor de controle van bijstandsuitkeringen", "public_services"),
    ("Identity verification and right to work check for job applicants", "employment"),
    ("A syntax checker", "other"),  # "tax" inside a word is not tax
])
def test_domain_keywords(text, domain):
    assert infer_domain(text)[0] == domain


def test_capability_keywords():
    assert infer_capabilities("应用于数字人视频生成场景，合成主播声音") == ["voice_cloning", "video_deepfake"]
    assert infer_capabilities("GOV.UK Chat is our AI-powered chatbot") == ["text_generation"]
    assert infer_capabilities("Gezichtsvergelijking bij de balie") == ["biometric_identification"]


def _import(container, path, **kw):
    with container.uow() as uow:
        report = run_import(uow, path, **kw)
        uow.commit()
    return report


# The Dutch CSV holds the same 1,530 records as the JSON: checked in a dry run to keep tests fast.
@pytest.mark.data
@pytest.mark.parametrize("relpath, fmt, rows, imported, rejected, reason, dry_run", [
    (DEEP, "cac-deep-synthesis", 71, 71, 0, None, False),
    (GENAI, "cac-genai", 114, 114, 0, None, False),
    ("nl_algoritmeregister_2026-08/algoritmes.csv", "nl-algoritmeregister", 1530, 1465, 65, "buiten_gebruik", True),
    ("nl_algoritmeregister_2026-08/algoritmes.json", "nl-algoritmeregister", 1530, 1465, 65, "buiten_gebruik", False),
    ("uk_atrs_records_2026-08/atrs_records.csv", "uk-atrs", 136, 130, 6, "publishing_body is empty", False),
    ("uk_atrs_records_2026-08/atrs_records.json", "uk-atrs", 136, 130, 6, "publishing_body is empty", False),
])
def test_real_files(container, shared_data, relpath, fmt, rows, imported, rejected, reason, dry_run):
    report = _import(container, shared_data / relpath, dry_run=dry_run)
    assert (report.format, report.rows, report.accepted, len(report.rejected)) == (fmt, rows, imported, rejected)
    assert len(report.imported) == (0 if dry_run else imported)
    assert all(reason in why for _row, why in report.rejected)
    if not dry_run:
        assert _import(container, shared_data / relpath).unchanged == imported  # idempotent


@pytest.mark.data
def test_cac_filings_are_stored_approved_with_their_real_numbers(container, shared_data):
    _import(container, shared_data / DEEP)
    _import(container, shared_data / GENAI)
    with container.uow() as uow:
        wenxin = uow.session.scalars(sa.select(Application).where(
            Application.filing_number == "Beijing-WenXinYiYan-20230821")).one()
        assert (wenxin.status, wenxin.name, wenxin.company.name) == ("approved", "文心一言", "北京百度网讯科技有限公司")
        v = wenxin.versions[0]
        assert (v.status, v.regions, v.public_opinion_attributes) == ("approved", ["北京市"], True)
        assert v.models == [{"name": "文心一言", "filing_number": "Beijing-WenXinYiYan-20230821"}]
        damai = uow.session.scalars(sa.select(Application).where(
            Application.filing_number == "网信算备110101128387701230011号")).one()
        assert damai.versions[0].deployment_channels == ["app"]
        assert damai.versions[0].capabilities == ["text_generation", "voice_cloning"]
        # 智谱 appears in both lists: one company
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Company).where(
            Company.name == "北京智谱华章科技有限公司")) == 1


def test_xlsx_with_mapping_file(container, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["应用名称", "企业名称", "统一社会信用代码", "领域", "能力", "月活", "跨境"])
    ws.append(["智能投顾", "深圳市腾讯计算机系统有限公司", "91440300708461136T", "金融", "文本生成、自动化决策", "1,200,000", "否"])
    ws.append(["坏代码", "某公司", "91440101MA59UC1B0X", "金融", "", "", ""])
    ws.append(["未知领域", "某公司", "", "占卜", "", "", ""])
    ws.append(["", "某公司", "", "", "", "", ""])
    path = tmp_path / "filings.xlsx"
    wb.save(path)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  name: 应用名称\n  company: 企业名称\n  credit_code: 统一社会信用代码\n"
                       "  domain: 领域\n  capabilities: 能力\n  monthly_active_users: 月活\n"
                       "  cross_border_transfer: 跨境\n", encoding="utf-8")
    report = _import(container, path, mapping=mapping)
    assert len(report.imported) == 1
    assert [row for row, _ in report.rejected] == [2, 3, 4]
    reasons = dict(report.rejected)
    assert "check digit" in reasons[2] and "unknown code '占卜'" in reasons[3] and "name" in reasons[4]
    with container.uow() as uow:
        v = uow.session.scalars(sa.select(ApplicationVersion)).one()
        assert (v.domain, v.capabilities, v.monthly_active_users, v.cross_border_transfer) == (
            "finance", ["text_generation", "decision_making"], 1_200_000, False)
        assert v.application.status == "submitted"
        # the existing company with that credit code is reused, not duplicated
        assert v.application.company.credit_code == "91440300708461136T"
        assert v.application.company.source == "registered"


def test_unreadable_inputs_are_refused_whole(container, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"a": 1}))
    with container.uow() as uow, pytest.raises(ImportFileError):
        run_import(uow, bad)
    odd = tmp_path / "odd.csv"
    odd.write_text("foo,bar\n1,2\n")
    with container.uow() as uow, pytest.raises(ImportFileError, match="unknown columns"):
        run_import(uow, odd)


@pytest.mark.data
def test_cli_import_tiers_every_imported_application(container, shared_data):
    from click.testing import CliRunner

    from tierwatch.cli.registry import registry
    from tierwatch.risk import service as risk_service
    from tests.unit.registry.factories import activate_shipped_rules

    path = str(shared_data / GENAI)
    runner = CliRunner()
    untiered = runner.invoke(registry, ["import", path], obj=container)
    assert untiered.exit_code == 0, untiered.output
    assert "114 imported" in untiered.output and "no rule set is active" in untiered.output

    activate_shipped_rules(container)  # tiers the 114 already imported
    result = runner.invoke(registry, ["import", str(shared_data / DEEP)], obj=container)
    assert result.exit_code == 0, result.output
    assert "71 imported, 0 already present, 0 rejected" in result.output
    assert "tiered 71 applications under cn-gd v1, eu v1" in result.output
    with container.uow() as uow:
        ids = uow.session.scalars(sa.select(Application.id).where(Application.source.like("import:%"))).all()
        assert len(ids) == 185
        for app_id in ids:
            rows = risk_service.current_assessments(uow, app_id)
            assert {r.jurisdiction for r in rows} == {"cn-gd", "eu"}, app_id
        # a deep-synthesis filing has reasons to show
        explained = [risk_service.explain(uow, r) for r in risk_service.current_assessments(uow, ids[-1])]
        assert any(e["fired_rules"] for e in explained)


@pytest.mark.data
def test_cac_imports_state_only_what_their_regime_says_and_flag_it(container, shared_data):
    """A CAC generative-AI filing is a service offered to the public; a deep-synthesis filing has
    its algorithm filing number, and a service provider (not a technical supporter) serves the
    public. Nothing else is answered, no exemption ever, and each inferred answer is flagged."""
    _import(container, shared_data / DEEP)
    _import(container, shared_data / GENAI)
    with container.uow() as uow:
        wenxin = uow.session.scalars(sa.select(Application).where(
            Application.filing_number == "Beijing-WenXinYiYan-20230821")).one()
        v = wenxin.versions[0]
        assert (v.offered_to_public, v.cac_algorithm_filing, v.intended_purpose, v.social_scoring) == (
            "public", None, None, None)
        assert any("offered_to_public" in flag for flag in wenxin.import_notes["flags"])
        deep = uow.session.scalars(sa.select(Application).where(Application.source == "import:cac-deep-synthesis")).all()
        assert all(a.versions[0].cac_algorithm_filing == a.filing_number for a in deep)
        roles = {a.import_notes.get("role") for a in deep}
        assert {"服务提供者", "服务技术支持者"} <= roles
        for a in deep:
            public = "public" if a.import_notes.get("role") == "服务提供者" else None
            assert a.versions[0].offered_to_public == public, a.filing_number
        versions = uow.session.scalars(sa.select(ApplicationVersion)).all()
        assert all(v.justifications is None for v in versions)  # no exemption claimed by an import
