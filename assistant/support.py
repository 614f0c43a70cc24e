"""Does a draft bullet say what its cited span says? The check every draft bullet passes.

Officials paste draft bullets into their reports, so each bullet must be backed by the span it
cites: its content words are mostly the span's, each figure in it is in the span, each
province it names is the cited document's, and each proper name (an institution, a programme)
is in the span or its document's title. The e5 similarity of bullet and span is the second
signal: a bullet that reuses the span's words to say something else is rejected too. A bullet that fails is rewritten from its own span or
dropped (``assistant.modes.draft``); the same bullet twice is kept once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.citations import markers
from assistant.figures import ungrounded_figures
from assistant.types import Citation
from ingest.normalize import fold
from ingest.provinces import find_provinces

# Share of a bullet's content syllables that must occur in the cited span: below it the bullet
# says things the span does not.
MIN_WORD_SUPPORT = 0.8
# The second signal: even with the span's words, a bullet whose e5 cosine with the span is below
# this says something else with them. Measured with the bundled e5 on corpus measures: a faithful
# shortening or "Tại <tỉnh>, …" form 0.93–0.97, another measure of the same genre 0.88–0.905, so
# it catches gross mismatches only (e5 does not see a negation: "hạn chế mở lớp" scored 0.94).
SIMILARITY_FLOOR = 0.9
# Two bullets with this share of their content syllables in common say the same thing.
DUPLICATE_OVERLAP = 0.85

Similarity = Callable[[str, str], float]

_SYLLABLE = re.compile(r"[^\W\d_]+", re.UNICODE)
# Function words and draft furniture: they say nothing about what the span supports.
_STOP = frozenset(
    fold(w)
    for w in ["và", "của", "các", "những", "cho", "trong", "với", "để", "được", "là", "có", "đã", "sẽ", "đang", "này", "đó", "theo", "từ", "tại", "về", "một", "như", "thì", "mà", "nên", "cũng", "rất", "hơn", "nhất", "vào", "ra", "trên", "dưới", "khi", "nếu", "do", "bởi", "hoặc", "hay", "cùng", "việc", "đồng", "thời", "bên", "cạnh", "ngoài", "ra", "tuy", "nhiên"]
)
_MARKER = re.compile(r"\s*\[\d{1,2}\]")
_ATTRIBUTION = re.compile(r"\s*\((?:[^()]{2,60})\)\s*$")  # the "(Tỉnh)" a draft bullet ends with
# Proper names: two or more capitalised syllables in a row, not at the start of the bullet.
_PROPER = re.compile(r"(?<=\s)(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]+\s){1,5}[A-ZĐÀ-Ỹ][a-zà-ỹđ]+")


@dataclass(frozen=True)
class Support:
    ok: bool
    reason: str = ""
    word_support: float = 0.0


def content_syllables(text: str) -> list[str]:
    return [s for s in (fold(m.group(0)) for m in _SYLLABLE.finditer(text)) if s not in _STOP and len(s) > 1]


def bullet_body(line: str) -> str:
    """A bullet line without its dash, markers and closing "(Tỉnh)" attribution."""
    body = _MARKER.sub("", line.strip().lstrip("-•* ").strip())
    body = body.rstrip(" .")
    return _ATTRIBUTION.sub("", body).strip()


def supports(body: str, cited: Sequence[Citation], similarity: Similarity | None = None) -> Support:
    """Whether the spans of ``cited`` back the bullet text ``body``."""
    if not cited:
        return Support(False, "không có trích dẫn")
    span = "\n".join(c.quote for c in cited)
    context = span + "\n" + "\n".join(c.passage.title for c in cited)
    own_names = {w for c in cited for w in content_syllables(c.province)}
    words = [w for w in content_syllables(body) if w not in own_names]  # "Tại Nghệ An, …" adds no claim
    if not words:
        return Support(True, word_support=1.0)
    have = set(content_syllables(context))
    share = sum(w in have for w in words) / len(words)
    if ungrounded_figures(body, [span]):
        return Support(False, "số liệu không có trong đoạn được trích", share)
    own = {c.province for c in cited if c.province}
    stray = set(find_provinces(body)) - own - set(find_provinces(span))
    if stray:
        return Support(False, f"nêu {', '.join(sorted(stray))} nhưng trích tài liệu của {', '.join(sorted(own)) or 'tỉnh khác'}", share)
    folded_context = fold(context)
    missing = [n for n in _PROPER.findall(" " + body) if fold(n) not in folded_context and not find_provinces(n)]
    if missing:
        return Support(False, f"tên riêng không có trong đoạn được trích: {', '.join(missing)}", share)
    if share < MIN_WORD_SUPPORT:
        return Support(False, f"chỉ {share:.0%} từ của ý có trong đoạn được trích", share)
    if similarity is not None and similarity(body, span) < SIMILARITY_FLOOR:
        return Support(False, "ý khác nghĩa với đoạn được trích", share)
    return Support(True, word_support=share)


def check_bullet(line: str, citations: Sequence[Citation], similarity: Similarity | None = None) -> Support:
    """A draft line "- … (Tỉnh) [n]." against the citations its markers name."""
    by_n = {c.n: c for c in citations}
    cited = [by_n[n] for n in dict.fromkeys(markers(line)) if n in by_n]
    return supports(bullet_body(line), cited, similarity)


def is_duplicate(body: str, kept: Sequence[str]) -> bool:
    """The same point as one already kept (most of its content syllables, either way round)."""
    mine = set(content_syllables(body))
    if not mine:
        return False
    for other in kept:
        theirs = set(content_syllables(other))
        if theirs and len(mine & theirs) / min(len(mine), len(theirs)) >= DUPLICATE_OVERLAP:
            return True
    return False
