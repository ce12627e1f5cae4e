from __future__ import annotations

import pytest

from tests.unit.registry.factories import activate_shipped_rules, full_fields


@pytest.fixture
def rules(container):
    activate_shipped_rules(container)


FACE_SWAP = full_fields(name="换脸特效相机", capabilities=["video_deepfake", "biometric_identification"],
                        personal_info=["biometric"], monthly_active_users=3_000_000, content_labelling=False,
                        domain="social", audiences=["general", "minors"])


def test_submission_is_tiered_under_every_active_rule_set_with_reasons(client, tokens, rules):
    app_id = client.post("/api/v1/applications", json=FACE_SWAP, headers=tokens["a"]).json["id"]
    assert client.get(f"/api/v1/applications/{app_id}/tiers", headers=tokens["a"]).json["items"] == []
    client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"])
    tiers = client.get(f"/api/v1/applications/{app_id}/tiers", headers=tokens["a"]).json["items"]
    assert {t["jurisdiction"] for t in tiers} == {"cn-gd", "eu"}
    cn = next(t for t in tiers if t["jurisdiction"] == "cn-gd")
    assert cn["tier"] == "high"
    assert cn["fired_rules"] and all(r["reason"]["zh"] and r["reason"]["en"] and r["legal_basis"]
                                     for r in cn["fired_rules"])
    assert any("capabilities" in r["evidence"] for r in cn["fired_rules"])
    assert client.get(f"/api/v1/applications/{app_id}/tiers", headers=tokens["b"]).status_code == 404


def test_override_needs_a_regulator_and_a_justification(client, tokens, rules):
    app_id = client.post("/api/v1/applications", json=full_fields(), headers=tokens["a"]).json["id"]
    client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"])
    url = f"/api/v1/applications/{app_id}/tiers/override"
    ask = {"jurisdiction": "cn-gd", "tier": "high", "justification": "近期多起投诉显示该客服被用于冒充银行诈骗，需加强监管。"}
    assert client.post(url, json=ask, headers=tokens["a"]).status_code == 403
    short = client.post(url, json={**ask, "justification": "太危险"}, headers=tokens["regulator"])
    assert short.status_code == 422 and short.json["errors"][0]["field"] == "justification"
    bad = client.post(url, json={**ask, "tier": "extreme"}, headers=tokens["regulator"])
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "tier"
    nowhere = client.post(url, json={**ask, "jurisdiction": "mars"}, headers=tokens["regulator"])
    assert nowhere.status_code == 422 and nowhere.json["errors"][0]["field"] == "jurisdiction"  # was 201
    resp = client.post(url, json=ask, headers=tokens["regulator"])
    assert resp.status_code == 201, resp.json
    cn = next(t for t in client.get(f"/api/v1/applications/{app_id}/tiers", headers=tokens["a"]).json["items"]
              if t["jurisdiction"] == "cn-gd")
    assert cn["tier"] == "high" and cn["override_id"] == resp.json["id"]
    trail = client.get(f"/api/v1/applications/{app_id}/audit", headers=tokens["regulator"]).json["items"]
    assert trail[0]["action"] == "risk.override" and trail[0]["reason"] == ask["justification"]


def test_rule_file_endpoints(client, tokens, rules):
    broken = "jurisdiction: cn-gd\nrules:\n  - id: X\n    condition: 'capabilities.exists(c, '\n"
    resp = client.post("/api/v1/rulesets/validate", data=broken, headers=tokens["regulator"])
    assert resp.status_code == 422 and resp.json["errors"]
    # a one-line body naming a file on the server is text, never read from disk
    resp = client.post("/api/v1/rulesets/validate", data="/etc/passwd", headers=tokens["regulator"])
    assert resp.status_code == 422 and "root:" not in resp.get_data(as_text=True)
    listed = client.get("/api/v1/rulesets", headers=tokens["a"]).json["items"]
    assert {(r["jurisdiction"], r["status"]) for r in listed} == {("cn-gd", "active"), ("eu", "active")}
    assert client.post("/api/v1/rulesets/activate", data=broken, headers=tokens["regulator"]).status_code == 403


def test_rules_diff_over_the_registry(client, tokens, rules):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    credit = full_fields(name="个人信用评分", capabilities=["decision_making"], domain="finance",
                         personal_info=["financial"], answers={"intended_purpose": ["creditworthiness"]})
    app_id = client.post("/api/v1/applications", json=credit, headers=tokens["a"]).json["id"]
    client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"])
    text = (repo / "rules" / "cn-gd.yaml").read_text(encoding="utf-8")
    stricter = text.replace('edition: "2026.2"', 'edition: "2026.3"').replace(
        "thresholds: {medium: 3, high: 7}", "thresholds: {medium: 3, high: 8}")
    assert stricter.count("2026.3") == 1 and "high: 8" in stricter
    resp = client.post("/api/v1/rulesets/diff", data=stricter.encode(), headers=tokens["analyst"])
    assert resp.status_code == 200, resp.json
    d = resp.json
    assert (d["old"]["edition"], d["new"]["edition"], d["edition_conflict"]) == ("2026.2", "2026.3", None)
    assert [(i["kind"], i["id"]) for i in d["items"]] == [("combine", "combine")]
    [move] = [m for m in d["moves"] if m["ref"] == app_id]
    assert (move["before"], move["after"], move["caused_by"]) == ("high", "medium", ["combine.thresholds"])
    # two stored versions; wrong references and other jurisdictions are field errors
    same = client.get("/api/v1/rulesets/diff?old=cn-gd@v1&new=cn-gd@active", headers=tokens["regulator"])
    assert same.status_code == 200 and same.json["items"] == [] and same.json["moved"] == 0
    bad = client.get("/api/v1/rulesets/diff?old=cn-gd&new=cn-gd@active", headers=tokens["regulator"])
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "old"
    other = client.get("/api/v1/rulesets/diff?old=eu@active&new=cn-gd@active", headers=tokens["regulator"])
    assert other.status_code == 422 and other.json["errors"][0]["field"] == "new"
    assert client.get("/api/v1/rulesets/diff?old=cn-gd@v7&new=cn-gd@active", headers=tokens["regulator"]).status_code == 404
    assert client.post("/api/v1/rulesets/diff", data=stricter.encode(), headers=tokens["a"]).status_code == 403


def test_review_queue_api(client, tokens, rules):
    scraper = full_fields(name="人脸库建设", capabilities=["biometric_identification"], domain="other",
                          scenario="从互联网爬取人脸照片建库", answers={"untargeted_face_scraping": "no"})
    app_id = client.post("/api/v1/applications", json=scraper, headers=tokens["a"]).json["id"]
    client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"])
    assert client.get("/api/v1/review-queue", headers=tokens["a"]).status_code == 403
    queue = client.get("/api/v1/review-queue?jurisdiction=eu&kind=text_contradicts_answer",
                       headers=tokens["analyst"]).json
    [item] = [i for i in queue["items"] if i["application_id"] == app_id]
    flag = next(f for f in item["flags"] if f["id"] == "EU-TXT-5E")
    assert flag["kind"] == "text_contradicts_answer" and flag["evidence"]["answer"] == "no"
    assert "爬取" in flag["evidence"]["terms"] and flag["message"]["zh"] and flag["message"]["en"]
    assert client.get("/api/v1/review-queue?kind=nonsense", headers=tokens["analyst"]).status_code == 422
    # the company sees its own flags with the tier, never the queue
    mine = client.get(f"/api/v1/applications/{app_id}/tiers", headers=tokens["a"]).json["items"]
    assert any(f["id"] == "EU-TXT-5E" for t in mine for f in t["flags"])
    url = f"/api/v1/applications/{app_id}/tiers/eu/flags/clear"
    reason = {"reason": "已电话核实：仅使用员工自愿上传的证件照，未从互联网抓取。"}
    assert client.post(url, json=reason, headers=tokens["analyst"]).status_code == 403
    short = client.post(url, json={"reason": "ok"}, headers=tokens["regulator"])
    assert short.status_code == 422 and short.json["errors"][0]["field"] == "reason"
    assert client.post(url, json=reason, headers=tokens["regulator"]).status_code == 200
    after = client.get("/api/v1/review-queue?jurisdiction=eu", headers=tokens["regulator"]).json
    assert app_id not in {i["application_id"] for i in after["items"]}
