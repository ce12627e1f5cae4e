"""Password rules after NIST SP 800-63B (5.1.1.2): at least 12 characters, as typed (no trimming,
any character), not a commonly used or leaked password, not the account's e-mail or name, not
one character repeated or a plain sequence. No composition rules and no forced changes."""

from __future__ import annotations

from functools import lru_cache

MIN_LENGTH, MAX_LENGTH = 12, 200
_SEQUENCES = ("0123456789" * 3, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm" * 2)


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords of public leaks (MIT licence).
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _repeats_common(folded: str) -> bool:
    """A common password typed two or more times ("passwordpassword")."""
    for times in range(2, 5):
        part, rest = divmod(len(folded), times)
        if not rest and folded[:part] * times == folded and folded[:part] in _common():
            return True
    return False


# Problem code -> the English message the API gives (the web pages translate by code).
PROBLEMS = {
    "too_short": f"at least {MIN_LENGTH} characters",
    "too_long": f"at most {MAX_LENGTH} characters",
    "common": "too common: it is on lists of leaked passwords",
    "personal": "must not be your e-mail address or name",
    "repetitive": "must not repeat one or two characters",
    "sequence": "must not be a plain sequence of keys",
}


def password_check(password: str, email: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be used, as a code of PROBLEMS, or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    folded = password.casefold()
    if folded in _common() or folded.strip() in _common() or _repeats_common(folded):
        return "common"
    personal = {email.casefold(), email.casefold().partition("@")[0], name.casefold()} - {""}
    if folded in personal or folded.replace(" ", "") in personal:
        return "personal"
    if len(set(folded)) <= 2:
        return "repetitive"
    if any(folded in seq or folded in seq[::-1] for seq in _SEQUENCES):
        return "sequence"
    return None


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be used, in words, or None."""
    code = password_check(password, email, name)
    return PROBLEMS[code] if code else None
