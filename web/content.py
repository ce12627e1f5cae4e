"""Text a regulator edits: prevention tips as Markdown files with a YAML header, one file per topic
and language (``web/content/tips/<topic>.<zh_CN|en>.md``), and the Markdown of published
warnings and case stories.

Files are checked when read: the header must name a known topic, a title and a summary; a bad
file is refused with its name and line, and the tips page shows the others. A file in
``TIERWATCH_CONTENT_DIR/tips/`` replaces the bundled one of the same name, so a regulator edits
tips without touching the installed package; a file changed on disk is read again.

Rendering is safe by construction: CommonMark without raw HTML (written HTML shows as text),
links only to http(s), mailto and tel (markdown-it refuses javascript: and data:), no images
(nothing may load from another host), headings moved down a level under the page's own title.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markupsafe import Markup

from tierwatch.antifraud import vocab

BUNDLED = Path(str(files("tierwatch.web") / "content"))
LANGUAGES = ("zh_CN", "en")
# Topics beyond the vocabularies: how to check a caller, what to do after paying.
GENERAL_TOPICS = ("verify_caller", "if_you_paid")
KINDS = {"general": GENERAL_TOPICS, "ai_technique": tuple(t for t in vocab.AI_TECHNIQUES if t != "none"),
         "scam_type": tuple(t for t in vocab.SCAM_TYPES if t != "other")}
_HEADER_KEYS = {"topic", "kind", "title", "summary", "order"}


class ContentError(ValueError):
    """A content file is malformed; the message names the file and the line."""


@dataclass(frozen=True)
class Tip:
    topic: str
    kind: str  # general | ai_technique | scam_type
    language: str
    title: str
    summary: str
    body: str  # Markdown
    order: int = 100

    @property
    def html(self) -> Markup:
        return render_markdown(self.body)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")

    def heading_down(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("heading_open", heading_down)
    md.add_render_rule("heading_close", heading_down)
    default_validate = md.validateLink
    md.validateLink = lambda url: default_validate(url) and url.strip().lower().startswith(  # type: ignore[method-assign]
        ("http://", "https://", "mailto:", "tel:", "/", "#"))
    return md


_MD = _markdown()


def render_markdown(text: str | None) -> Markup:
    """Markdown -> HTML safe to put in a page (see the module's note)."""
    return Markup(_MD.render(text or ""))  # nosec B704 # markdown-it with html off escapes all the source


def parse_tip(text: str, name: str) -> Tip:
    """One file's text -> a Tip; ContentError naming ``name`` and the line."""
    if not text.startswith("---\n"):
        raise ContentError(f"{name}:1: a tip starts with a '---' line, then its YAML header")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ContentError(f"{name}:1: the YAML header has no closing '---' line")
    try:
        header = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise ContentError(f"{name}:{line}: bad YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(header, dict):
        raise ContentError(f"{name}:2: the header must be key: value lines")
    unknown = set(header) - _HEADER_KEYS
    missing = {"topic", "kind", "title", "summary"} - set(header)
    if unknown or missing:
        what = f"unknown keys {sorted(unknown)}" if unknown else f"missing keys {sorted(missing)}"
        raise ContentError(f"{name}:{_line_of(text, next(iter(sorted(unknown))) if unknown else None)}: {what}")
    kind, topic = header["kind"], header["topic"]
    if kind not in KINDS or topic not in KINDS[kind]:
        raise ContentError(f"{name}:{_line_of(text, 'topic')}: topic {topic!r} of kind {kind!r} is not one of "
                           f"{', '.join(f'{k}/{t}' for k, ts in KINDS.items() for t in ts)}")
    for key in ("title", "summary"):
        if not isinstance(header[key], str) or not header[key].strip():
            raise ContentError(f"{name}:{_line_of(text, key)}: {key} must be text")
    language = name.rsplit(".", 2)[-2] if name.count(".") >= 2 else ""
    if language not in LANGUAGES:
        raise ContentError(f"{name}:1: the file name ends in .zh_CN.md or .en.md")
    body = text[end + 5:].strip()
    if not body:
        raise ContentError(f"{name}:{text[:end].count(chr(10)) + 3}: the tip has no text")
    order = header.get("order", 100)
    return Tip(topic, kind, language, header["title"].strip(), header["summary"].strip(), body,
               order if isinstance(order, int) else 100)


def _line_of(text: str, key: str | None) -> int:
    if key:
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith(f"{key}:"):
                return number
    return 2


class TipLibrary:
    """Every tip, bundled and edited, re-read when a file changes; bad files are left out and
    listed in ``errors`` (logged by the caller)."""

    def __init__(self, override: Path | None = None, bundled: Path = BUNDLED):
        self.dirs = [bundled / "tips", *([override / "tips"] if override else [])]
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._tips: dict[tuple[str, str], Tip] = {}
        self.errors: list[str] = []

    def _files(self) -> list[Path]:
        # Bundled first, then the regulator's: a valid edited file replaces the bundled one.
        return [p for d in self.dirs if d.is_dir() for p in sorted(d.glob("*.md"))]

    def _load(self) -> None:
        paths = self._files()
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
        if stamp == self._stamp:
            return
        tips, errors = {}, []
        for path in paths:
            try:
                tip = parse_tip(path.read_text(encoding="utf-8"), path.name)
            except (ContentError, UnicodeDecodeError) as exc:
                errors.append(str(exc))  # a broken edit leaves the bundled tip in place
                continue
            tips[(tip.topic, tip.language)] = tip
        self._tips, self.errors, self._stamp = tips, errors, stamp

    def all(self, language: str) -> list[Tip]:
        """One tip per topic, in ``language`` where written, else in the other language."""
        with self._lock:
            self._load()
            tips = dict(self._tips)
        topics = {t for t, _ in tips}
        out = [tips.get((t, language)) or tips[(t, _other(language))] for t in topics]
        kinds = list(KINDS)
        return sorted(out, key=lambda t: (kinds.index(t.kind), t.order, KINDS[t.kind].index(t.topic)))

    def get(self, topic: str, language: str) -> Tip | None:
        with self._lock:
            self._load()
            return self._tips.get((topic, language)) or self._tips.get((topic, _other(language)))


def _other(language: str) -> str:
    return "en" if language == "zh_CN" else "zh_CN"
