"""The filing vocabulary as the form renders it: every structured question has its wording,
answer type, help text and what it serves; every exemption answer asks for a justification;
every `relevant_if` compiles against the filing's fields."""

from __future__ import annotations

import pytest
from cel_expr_python import cel

from tierwatch.registry.vocab import APPLICATION_FIELDS, FILING_FIELDS, QUESTIONS, Question
from tierwatch.risk.appdata import FIELD_TYPES


@pytest.mark.parametrize("code, q", QUESTIONS.items(), ids=list(QUESTIONS))
def test_each_question_is_complete(code: str, q: Question) -> None:
    assert q.code == code and q.kind in ("yesno", "choice", "multi", "text")
    for zh, en in (q.ask, q.help):
        assert zh.strip() and en.strip() and not zh.isascii()  # Chinese first, English beside it
    assert q.serves and all(s.startswith(("EU AI Act", "CN ")) for s in q.serves)
    if q.kind != "text":
        assert q.choices and all(zh and en for zh, en in q.choices.values())
    assert set(q.justify) <= set(q.choices or ()), "only a real answer can claim an exemption"
    assert "unknown" not in q.justify, '"unknown" never grants an exemption'
    assert (q.justification is not None) == bool(q.justify)
    if q.justification is not None:
        assert "20" in q.justification[0] and "20" in q.justification[1]
    assert APPLICATION_FIELDS[code][1] == q.choices


def test_relevant_if_compiles_against_the_filing() -> None:
    env = cel.NewEnv(variables=FIELD_TYPES)
    for q in QUESTIONS.values():
        if q.relevant_if:
            assert env.compile(q.relevant_if).return_type() == cel.Type.BOOL, q.code


def test_questions_and_profile_fields_do_not_overlap() -> None:
    assert not set(QUESTIONS) & set(FILING_FIELDS)
    assert set(APPLICATION_FIELDS) == set(QUESTIONS) | set(FILING_FIELDS)
    assert len(QUESTIONS) == 28


def test_exemption_claims_are_the_ones_the_laws_name() -> None:
    claims = {code: set(q.justify) for code, q in QUESTIONS.items() if q.justify}
    assert claims == {
        "offered_to_public": {"business_only", "internal_only"},  # CN GAI Measures Art. 2(3)
        "rbi_exception": {"victim_search", "imminent_threat", "serious_crime_suspect"},  # Art. 5(1)(h)(i)-(iii)
        "biometric_verification_only": {"yes"},  # Annex III 1(a), second sentence
        "emotion_medical_or_safety": {"yes"},  # Art. 5(1)(f), exception
        "art6_3_exemption": {"narrow_procedural_task", "improves_prior_human_activity",
                             "detects_decision_patterns", "preparatory_task"},  # Art. 6(3)(a)-(d)
        "fraud_detection_only": {"yes"},  # Annex III 5(b), exception
        "human_editorial_control": {"yes"},  # Art. 50(4), second subparagraph
    }
