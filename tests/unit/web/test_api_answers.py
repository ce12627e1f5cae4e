"""The structured questions through the API: answers and written justifications are stored as
the version's columns (NULL = unanswered), merged question by question, copied by an amendment,
and refused field by field when wrong."""

from __future__ import annotations

import sqlalchemy as sa

from tierwatch.registry.models import Application, ApplicationVersion
from tests.unit.registry.factories import full_fields

REASON = "系统仅标记可疑交易供人工复核，不评估信用、不产生信用评分，也不影响授信决定。"


def test_answers_are_stored_as_columns_merged_and_cleared(client, tokens, container):
    body = full_fields(domain="finance", capabilities=["decision_making"],
                       answers={"intended_purpose": ["none"], "fraud_detection_only": "yes", "profiling": "unknown"},
                       justifications={"fraud_detection_only": REASON})
    resp = client.post("/api/v1/applications", json=body, headers=tokens["a"])
    assert resp.status_code == 201, resp.json
    app_id = resp.json["id"]
    fields = resp.json["latest_version"]["fields"]
    assert fields["answers"] == {"intended_purpose": ["none"], "fraud_detection_only": "yes", "profiling": "unknown"}
    assert fields["justifications"] == {"fraud_detection_only": REASON}

    # PATCH merges: one answer changed, one cleared (null = unanswered again), the rest kept
    resp = client.patch(f"/api/v1/applications/{app_id}", json={"answers": {"profiling": "no", "intended_purpose": None}},
                        headers=tokens["a"])
    assert resp.status_code == 200, resp.json
    assert resp.json["latest_version"]["fields"]["answers"] == {"fraud_detection_only": "yes", "profiling": "no"}
    with container.uow() as uow:
        version = uow.session.scalars(sa.select(ApplicationVersion).where(
            ApplicationVersion.application_id == app_id)).one()
        assert (version.profiling, version.fraud_detection_only, version.intended_purpose) == ("no", "yes", None)
        assert version.social_scoring is None  # never answered: NULL, not "no"
        # NULL in SQL, so "who left it open" is a plain IS NULL query
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(ApplicationVersion).where(
            ApplicationVersion.id == version.id, ApplicationVersion.intended_purpose.is_(None))) == 1

    for action, who in (("submit", "a"), ("start-review", "regulator"), ("approve", "regulator")):
        assert client.post(f"/api/v1/applications/{app_id}/{action}", headers=tokens[who]).status_code == 200
    amended = client.post(f"/api/v1/applications/{app_id}/amend", json={"change_note": "新增模型"},
                          headers=tokens["a"]).json["latest_version"]["fields"]
    assert amended["answers"] == {"fraud_detection_only": "yes", "profiling": "no"}
    assert amended["justifications"] == {"fraud_detection_only": REASON}


def test_wrong_answers_are_refused_field_by_field_and_store_nothing(client, tokens, container):
    with container.uow() as uow:
        before = uow.session.scalar(sa.select(sa.func.count()).select_from(Application))
    body = full_fields(answers={"rbi_real_time": "maybe", "intended_purpose": ["recruitment", "none"],
                                "rbi_remote": ["yes"], "no_such_question": "yes"},
                       justifications={"social_scoring": "这不是一个豁免问题，所以不需要书面理由说明。",
                                       "fraud_detection_only": "x" * 5000})
    resp = client.post("/api/v1/applications", json=body, headers=tokens["a"])
    assert resp.status_code == 422
    errors = {e["field"]: e["message"] for e in resp.json["errors"]}
    assert set(errors) == {"answers.rbi_real_time", "answers.intended_purpose", "answers.rbi_remote",
                           "answers.no_such_question", "justifications.social_scoring",
                           "justifications.fraud_detection_only"}
    assert "expected one of: yes, no, unknown" in errors["answers.rbi_real_time"]
    assert "cannot be combined" in errors["answers.intended_purpose"]
    assert errors["answers.no_such_question"] == "unknown question"
    assert "only for an answer claiming an exemption" in errors["justifications.social_scoring"]
    with container.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Application)) == before


def test_unanswered_questions_do_not_block_submission(client, tokens):
    """Unanswered questions never lower a tier (the rules fall back on the profile) and put the
    filing in the review queue; legacy and imported filings must go through like this."""
    app_id = client.post("/api/v1/applications", json=full_fields(), headers=tokens["a"]).json["id"]
    assert client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"]).json["status"] == "submitted"
