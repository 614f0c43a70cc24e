"""Scoring of CLI answers against ``eval/gold.yaml``.

Why: the product promise is "every figure comes from a cited passage"; these metrics make that promise
measurable with the same figure normalisation (``assistant.figures``) that the assistant's own grounding
check uses, so the eval cannot disagree with the product about what "the same figure" means.

Answer JSON (the CLI's output, one per question)::

    {"answer": str, "refused": bool, "mode": str,
     "citations": [{"n", "doc_id", "source", "title", "province", "start", "end", "quote"}],
     "timings_ms": {...}}

Definitions used by :func:`score_item`:

* **expected string matching** — an expected string that consists only of figures (plus punctuation and
  the filler words in ``_FILLER``: "ngày", "số", "hơn", "trên", …) is matched by canonical figure values:
  every figure value of the expected string must be in ``figure_values(answer)``.  Any other expected
  string is matched as a substring after :func:`fold` (NFC, lower case, no diacritics, đ→d, i/y
  spelling variants unified, whitespace collapsed).
* **figure_ok** — all expected strings match; ``None`` for refusal items and items without expected
  strings (nothing to check).
* **citation_precision** — share of *valid* citations among all citations plus dangling markers.
  A citation is valid when its ``source`` is a known document, ``0 <= start < end <= len(text)``, the span
  ``text[start:end]`` equals ``quote`` (after NFC and whitespace collapsing), and — for items with at
  least one figure-only expected string — the span contains at least one expected figure.  A marker
  "[n]" in the answer without a citation numbered n counts as one invalid citation.  ``None`` when the
  answer has neither citations nor markers.
* **citation_recall** — share of the item's expected sources cited at least once; ``None`` when the item
  expects no source.
* **refusal_ok** — ``answer.refused == item.refuse``.
* **grounding_violations** — distinct figures of the answer found in no cited quote
  (``figures.ungrounded_figures``).  Figures echoed from the question or the conversation history are
  not claims and are not counted.
* **rr / hit_at_k** — reciprocal rank of the first expected source in ``retrieved_sources`` (1-based),
  0.0 when absent; ``None`` when no retrieval list was given or the item expects no source.
* **provinces_ok** — for items with ``min_provinces > 0``: the citations name at least that many
  distinct provinces.
* **latency_ms** — ``timings_ms["total"]`` when present, else the sum of all timings.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.figures import extract_figures, figure_values, ungrounded_figures
from assistant.modes import MODE_NAMES

__all__ = [
    "KINDS",
    "MODES",
    "REFUSAL_KINDS",
    "THRESHOLDS",
    "AnswerCitation",
    "AnswerJson",
    "GoldError",
    "GoldItem",
    "ItemResult",
    "aggregate",
    "check_thresholds",
    "gate",
    "expected_figure_values",
    "fold",
    "is_figure_only",
    "load_corpus_texts",
    "load_gold",
    "match_expected",
    "score_item",
    "strip_tail_boilerplate",
]

Kind = Literal[
    "figure",
    "percent",
    "money",
    "date",
    "docnum",
    "name",
    "place",
    "comparison",
    "unanswerable",
    "trap",
    "abbreviation",
    "regulation",
    "draft",
    "summary",
    "followup",
]
MODES: tuple[str, ...] = MODE_NAMES  # the answer modes, from the registry
KINDS: tuple[str, ...] = get_args(Kind)
REFUSAL_KINDS = frozenset({"unanswerable", "trap"})

# One place for the gates.  metric -> (operator, bound).  Add entries only from measurement.
THRESHOLDS: dict[str, tuple[str, float]] = {
    "figure_accuracy": (">=", 0.9),
    "refusal_accuracy": (">=", 0.9),
    "grounding_violations": ("==", 0),
}
# Drafts are pasted into reports: every bullet must be backed by the span it cites (issue 12).
# They apply to any run that produced draft bullets (and, for point_attribution, found gold points).
DRAFT_THRESHOLDS: dict[str, tuple[str, float]] = {"bullet_support": ("==", 1.0)}
POINT_THRESHOLDS: dict[str, tuple[str, float]] = {"point_attribution": ("==", 1.0)}

_FILLER = {"ngay", "so", "hon", "tren", "khoang", "gan", "nam", "thang", "dat", "ti le", "tu", "den", "va"}


# --------------------------------------------------------------------------------------------------
# text helpers


def fold(text: str) -> str:
    """Comparison form: lower case, no diacritics, đ→d, i/y variants unified, punctuation dropped.

    Unifies the spellings users and documents mix: sĩ/sỹ, kì/kỳ, lí/lý, quí/quý, hoà/hòa, uỷ/ủy.
    """
    s = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).lower()).replace("đ", "d")
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[^\w%]+", " ", s)  # punctuation and dash variants are layout, not content
    s = re.sub(r"\b(qu|[hklmst])y\b", r"\1i", s)
    return re.sub(r"\s+", " ", s).strip()


def _squash(text: str) -> str:
    """NFC + collapsed whitespace, for span/quote equality that ignores layout only."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def strip_tail_boilerplate(text: str) -> str:
    """Cut a web page's tail of unrelated teasers (everything from a line "Các tin khác" on).

    Cutting only the tail keeps all earlier character offsets valid.
    """
    m = re.search(r"(?m)^[ \t\u00a0]*Các tin khác[ \t\u00a0]*$", text)
    return text[: m.start()] if m else text


def load_corpus_texts(corpus_dir: str | Path, strip_boilerplate: bool = False) -> dict[str, str]:
    """``{relative path: NFC text}`` for every ``*.txt`` under ``corpus_dir``."""
    root = Path(corpus_dir)
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*.txt")):
        t = unicodedata.normalize("NFC", p.read_text(encoding="utf-8"))
        out[p.relative_to(root).as_posix()] = strip_tail_boilerplate(t) if strip_boilerplate else t
    return out


def _norm_source(s: str) -> str:
    s = s.replace("\\", "/").strip()
    while s.startswith("./"):
        s = s[2:]
    return s[len("corpus/") :] if s.startswith("corpus/") else s


def is_figure_only(expected: str) -> bool:
    """True when ``expected`` is nothing but figures (plus punctuation and filler words like "hơn")."""
    figs = extract_figures(expected)
    if not figs:
        return False
    rest = list(expected)
    for f in figs:
        rest[f.start : f.end] = [" "] * (f.end - f.start)
    words = re.sub(r"[^\w]+", " ", fold("".join(rest))).split()
    rest_s = " ".join(words)
    for filler in sorted(_FILLER, key=len, reverse=True):
        rest_s = re.sub(rf"\b{filler}\b", " ", rest_s)
    return not rest_s.strip()


def expected_figure_values(expected: Iterable[str]) -> set[str]:
    """Canonical figure values of the figure-only expected strings."""
    out: set[str] = set()
    for e in expected:
        if is_figure_only(e):
            out |= {f.value for f in extract_figures(e)}
    return out


def match_expected(expected: str, answer: str, answer_values: set[str] | None = None) -> bool:
    """Does ``answer`` contain ``expected`` (by figure value, or folded substring for text)?"""
    if is_figure_only(expected):
        values = figure_values(answer) if answer_values is None else answer_values
        return all(f.value in values for f in extract_figures(expected))
    needle = fold(expected)
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", fold(answer)) is not None


# --------------------------------------------------------------------------------------------------
# gold schema


class GoldError(ValueError):
    """A gold file that does not follow the schema; the message names the offending entry."""


class DraftPoint(BaseModel):
    """A measure a draft may contain, and the province whose document it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phrase: str = Field(min_length=8)  # words of the measure, literally in the province's document
    province: str


class GoldItem(BaseModel):
    """One gold question (see the schema in ``eval/gold.yaml``'s header)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^q\d{3,}$")
    question: str = Field(min_length=2)
    mode: str = "qa"
    kind: Kind
    expected: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    refuse: bool = False
    history: list[str] = Field(default_factory=list)
    min_provinces: int = Field(default=0, ge=0)
    points: list[DraftPoint] = Field(default_factory=list)

    @field_validator("expected", "sources", "history")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        if any(not s.strip() for s in v):
            raise ValueError("blank string in list")
        return [unicodedata.normalize("NFC", s) for s in v]

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, v: str) -> str:
        if v not in MODE_NAMES:
            raise ValueError(f"unknown mode {v!r}; modes: {', '.join(MODE_NAMES)}")
        return v

    @field_validator("sources")
    @classmethod
    def _sources_are_txt(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if not s.endswith(".txt") or s.startswith("/")]
        if bad:
            raise ValueError(f"sources must be .txt paths relative to corpus/: {bad}")
        return [_norm_source(s) for s in v]

    @model_validator(mode="after")
    def _consistent(self) -> GoldItem:
        if self.kind in REFUSAL_KINDS and not self.refuse:
            raise ValueError(f"kind {self.kind!r} must have refuse: true")
        if self.refuse and (self.expected or self.sources):
            raise ValueError("refusal items take expected: [] and sources: []")
        if not self.refuse and not self.sources:
            raise ValueError("answerable items must list at least one source")
        if self.kind == "followup" and not self.history:
            raise ValueError("followup items need a non-empty history")
        if self.kind == "draft" and (self.mode != "draft" or self.min_provinces < 2):
            raise ValueError("draft items need mode: draft and min_provinces >= 2")
        if self.min_provinces > len(self.sources) and not self.refuse:
            raise ValueError("min_provinces exceeds the number of expected sources")
        return self


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read and validate a gold YAML list; raises :class:`GoldError` naming the first bad entry."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise GoldError(f"{p}: not valid YAML: {e}") from e
    if not isinstance(data, list):
        raise GoldError(f"{p}: expected a YAML list of items, got {type(data).__name__}")
    items: list[GoldItem] = []
    seen: set[str] = set()
    for i, raw in enumerate(data):
        label = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        if not isinstance(raw, dict):
            raise GoldError(f"{p}: entry {label} is not a mapping")
        try:
            item = GoldItem.model_validate(raw)
        except ValidationError as e:
            raise GoldError(f"{p}: entry {label} (index {i}) is invalid:\n{e}") from e
        if item.id in seen:
            raise GoldError(f"{p}: duplicate id {item.id}")
        seen.add(item.id)
        items.append(item)
    return items


# --------------------------------------------------------------------------------------------------
# answer schema


class AnswerCitation(BaseModel):
    """One citation as the CLI emits it."""

    model_config = ConfigDict(extra="allow")

    n: int
    doc_id: str = ""
    source: str
    title: str = ""
    province: str = ""
    start: int
    end: int
    quote: str


class AnswerJson(BaseModel):
    """The CLI answer object; unknown keys are kept, missing optional ones default."""

    model_config = ConfigDict(extra="allow")

    answer: str
    refused: bool
    mode: str = "qa"
    citations: list[AnswerCitation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# scoring


@dataclass
class ItemResult:
    """Per-question outcome; ``reasons`` says in words why anything failed."""

    id: str
    kind: str
    mode: str
    refuse_expected: bool
    refused: bool
    figure_ok: bool | None
    citation_precision: float | None
    citation_recall: float | None
    refusal_ok: bool
    grounding_violations: int
    ungrounded: list[str]
    rr: float | None
    first_rank: int | None
    hit_at_k: bool | None
    provinces_ok: bool | None
    latency_ms: float | None
    reasons: list[str] = field(default_factory=list)
    bullets: int = 0  # draft bullets (lines "- … [n]") in the answer
    bullets_supported: int = 0  # of those, the ones their cited spans support
    points_found: int = 0  # gold points that appear in the draft
    points_attributed: int = 0  # of those, credited to a document of the gold province

    @property
    def ok(self) -> bool:
        """Passed every hard check (figures, refusal, grounding, provinces, bullet support)."""
        return (
            self.figure_ok is not False
            and self.refusal_ok
            and self.grounding_violations == 0
            and self.provinces_ok is not False
            and self.bullets_supported == self.bullets
            and self.points_attributed == self.points_found
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


_MARKER_RE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")


def _markers(answer: str) -> set[int]:
    out: set[int] = set()
    for m in _MARKER_RE.finditer(answer):
        out |= {int(x) for x in re.split(r"\s*[,;]\s*", m.group(1))}
    return out


def _latency(timings: Mapping[str, float]) -> float | None:
    if not timings:
        return None
    if "total" in timings:
        return float(timings["total"])
    return float(sum(timings.values()))


def score_item(
    item: GoldItem,
    answer_json: Mapping[str, Any] | AnswerJson,
    retrieved_sources: list[str] | None,
    corpus_texts: Mapping[str, str],
    k: int = 5,
) -> ItemResult:
    """Score one CLI answer against its gold item (definitions in the module docstring)."""
    reasons: list[str] = []
    try:
        ans = answer_json if isinstance(answer_json, AnswerJson) else AnswerJson.model_validate(answer_json)
    except ValidationError as e:
        return ItemResult(
            id=item.id,
            kind=item.kind,
            mode=item.mode,
            refuse_expected=item.refuse,
            refused=False,
            figure_ok=None if item.refuse or not item.expected else False,
            citation_precision=0.0,
            citation_recall=0.0 if item.sources else None,
            refusal_ok=False,
            grounding_violations=0,
            ungrounded=[],
            rr=None,
            first_rank=None,
            hit_at_k=None,
            provinces_ok=False if item.min_provinces else None,
            latency_ms=None,
            reasons=[f"answer JSON does not follow the schema: {e.errors()[0]['msg']}"],
        )
    answer = unicodedata.normalize("NFC", ans.answer)
    texts = {_norm_source(k_): unicodedata.normalize("NFC", v) for k_, v in corpus_texts.items()}

    # refusal
    refusal_ok = ans.refused == item.refuse
    if not refusal_ok:
        reasons.append("refused an answerable question" if ans.refused else "answered instead of refusing")

    # expected strings
    figure_ok: bool | None = None
    if not item.refuse and item.expected:
        values = figure_values(answer)
        missing = [e for e in item.expected if not match_expected(e, answer, values)]
        figure_ok = not missing
        if missing:
            reasons.append(f"missing expected: {missing}")

    # citations
    exp_values = expected_figure_values(item.expected) if not item.refuse else set()
    numbers = {c.n for c in ans.citations}
    dangling = sorted(_markers(answer) - numbers)
    valid = 0
    for c in ans.citations:
        src = _norm_source(c.source)
        text = texts.get(src)
        if text is None:
            reasons.append(f"[{c.n}] cites unknown source {c.source!r}")
            continue
        if not (0 <= c.start < c.end <= len(text)):
            reasons.append(f"[{c.n}] span {c.start}:{c.end} outside {src} (len {len(text)})")
            continue
        span = text[c.start : c.end]
        if _squash(span) != _squash(c.quote):
            reasons.append(f"[{c.n}] quote differs from {src}[{c.start}:{c.end}]")
            continue
        if exp_values and not (figure_values(span) & exp_values):
            reasons.append(f"[{c.n}] cited span holds none of the expected figures")
            continue
        valid += 1
    if dangling:
        reasons.append(f"markers without a citation: {dangling}")
    denom = len(ans.citations) + len(dangling)
    citation_precision = valid / denom if denom else None

    cited = {_norm_source(c.source) for c in ans.citations}
    citation_recall: float | None = None
    if item.sources:
        hit = [s for s in item.sources if s in cited]
        citation_recall = len(hit) / len(item.sources)
        if len(hit) < len(item.sources):
            reasons.append(f"expected sources not cited: {sorted(set(item.sources) - cited)}")

    # grounding
    echo = [item.question, *item.history]
    ungrounded = ungrounded_figures(answer, [c.quote for c in ans.citations] + echo)
    if ungrounded:
        reasons.append(f"figures not in any cited quote: {[f.raw for f in ungrounded]}")

    # retrieval
    rr: float | None = None
    first_rank: int | None = None
    hit_at_k: bool | None = None
    if retrieved_sources is not None and item.sources:
        wanted = set(item.sources)
        for i, s in enumerate(retrieved_sources, start=1):
            if _norm_source(s) in wanted:
                first_rank = i
                break
        rr = 1.0 / first_rank if first_rank else 0.0
        hit_at_k = first_rank is not None and first_rank <= k

    # provinces
    provinces_ok: bool | None = None
    if item.min_provinces:
        provs = {fold(c.province) for c in ans.citations if c.province.strip()}
        provinces_ok = len(provs) >= item.min_provinces
        if not provinces_ok:
            reasons.append(f"cites {len(provs)} province(s), needs {item.min_provinces}")

    # draft bullets: each backed by the spans it cites; gold points credited to the right province
    bullets = supported = 0
    found = attributed = 0
    if item.mode == "draft" and not ans.refused:
        by_n = {c.n: c for c in ans.citations}
        for line in answer.split("\n"):
            line_cits = [by_n[n] for n in sorted(_markers(line)) if n in by_n]
            if not line.lstrip().startswith("-") or not _markers(line):
                continue
            bullets += 1
            why = bullet_unsupported(line, line_cits)
            if why:
                reasons.append(f"bullet not supported by its citation ({why}): {line[:80]}…")
            else:
                supported += 1
            for point in item.points:
                if fold(point.phrase) in fold(line):
                    found += 1
                    provs = {fold(c.province) for c in line_cits}
                    if fold(point.province) in provs:
                        attributed += 1
                    else:
                        reasons.append(f"point {point.phrase[:40]!r} credited to {sorted(provs)}, not {point.province}")

    return ItemResult(
        id=item.id,
        kind=item.kind,
        mode=item.mode,
        refuse_expected=item.refuse,
        refused=ans.refused,
        bullets=bullets,
        bullets_supported=supported,
        points_found=found,
        points_attributed=attributed,
        figure_ok=figure_ok,
        citation_precision=citation_precision,
        citation_recall=citation_recall,
        refusal_ok=refusal_ok,
        grounding_violations=len(ungrounded),
        ungrounded=[f.raw for f in ungrounded],
        rr=rr,
        first_rank=first_rank,
        hit_at_k=hit_at_k,
        provinces_ok=provinces_ok,
        latency_ms=_latency(ans.timings_ms),
        reasons=reasons,
    )


# --------------------------------------------------------------------------------------------------
# aggregation and gates


def _mean(xs: Iterable[float | bool | None]) -> float | None:
    vals = [float(x) for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


# A draft bullet is supported when this share of its content syllables is in the spans it cites.
BULLET_WORD_SUPPORT = 0.8
_BULLET_MARK = re.compile(r"\s*\[\d{1,2}\]")
_BULLET_ATTRIBUTION = re.compile(r"\s*\([^()]{2,60}\)\s*$")
_SYLL = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_FUNCTION_WORDS = frozenset(
    ["va", "cua", "cac", "nhung", "cho", "trong", "voi", "de", "duoc", "la", "co", "da", "se", "dang", "nay", "do", "theo", "tu", "tai", "ve", "mot", "nhu", "thi", "ma", "nen", "cung", "rat", "hon", "nhat", "vao", "ra", "tren", "duoi", "khi", "neu", "boi", "hoac", "hay", "cung", "viec"]
)


def bullet_unsupported(line: str, cited: list[AnswerCitation]) -> str:
    """Why a draft bullet is not backed by its cited spans ("" when it is).

    Measured independently of the assistant's own check: content syllables (accent-free, without
    function words and the cited provinces' names) mostly in the quotes, every figure in them,
    and no province named that is not the cited documents'."""
    if not cited:
        return "no citation"
    quotes = "\n".join(c.quote for c in cited)
    body = _BULLET_ATTRIBUTION.sub("", _BULLET_MARK.sub("", line.strip().lstrip("-•* ")).rstrip(" ."))
    own = {w for c in cited for w in _SYLL.findall(fold(c.province))}
    words = [w for w in _SYLL.findall(fold(body)) if w not in _FUNCTION_WORDS and w not in own]
    if ungrounded_figures(body, [quotes]):
        return "figure not in the cited span"
    have = set(_SYLL.findall(fold(quotes + "\n" + " ".join(c.title for c in cited))))
    share = sum(w in have for w in words) / len(words) if words else 1.0
    if share < BULLET_WORD_SUPPORT:
        return f"{share:.0%} of its words in the cited span"
    return ""


def _percentile(xs: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), ``q`` in [0, 100]."""
    if not xs:
        return None
    s = sorted(xs)
    pos = (len(s) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def aggregate(results: list[ItemResult], k: int = 5) -> dict[str, Any]:
    """Summary metrics over many items; rates are ``None`` when no item was eligible."""
    latencies: dict[str, list[float]] = defaultdict(list)
    for r in results:
        if r.latency_ms is not None:
            latencies[r.mode].append(r.latency_ms)
    ranked = [r for r in results if r.rr is not None]
    refusal_items = [r for r in results if r.refuse_expected]
    answerable = [r for r in results if not r.refuse_expected]
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "ok": 0})
    for r in results:
        by_kind[r.kind]["n"] += 1
        by_kind[r.kind]["ok"] += int(r.ok)
    return {
        "n_items": len(results),
        "figure_accuracy": _mean(r.figure_ok for r in results),
        "citation_precision": _mean(r.citation_precision for r in results),
        "citation_recall": _mean(r.citation_recall for r in results),
        "recall_at_k": _mean((r.first_rank is not None and r.first_rank <= k) for r in ranked),
        "k": k,
        "mrr": _mean(r.rr for r in ranked),
        "refusal_accuracy": _mean(r.refusal_ok for r in results),
        "refusal_recall": _mean(r.refused for r in refusal_items),
        "false_refusal_rate": _mean(r.refused for r in answerable),
        "grounding_violations": sum(r.grounding_violations for r in results),
        "provinces_ok": _mean(r.provinces_ok for r in results),
        "bullet_support": _ratio(sum(r.bullets_supported for r in results), sum(r.bullets for r in results)),
        "bullets": sum(r.bullets for r in results),
        "point_attribution": _ratio(
            sum(r.points_attributed for r in results), sum(r.points_found for r in results)
        ),
        "latency_ms": {
            mode: {"n": len(v), "p50": _percentile(v, 50), "p95": _percentile(v, 95)}
            for mode, v in sorted(latencies.items())
        },
        "by_kind": {kind: dict(v) for kind, v in sorted(by_kind.items())},
        "failed": [r.id for r in results if not r.ok],
    }


_OPS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def check_thresholds(
    summary: Mapping[str, Any], thresholds: Mapping[str, tuple[str, float]] = THRESHOLDS
) -> list[str]:
    """Human-readable failures of ``summary`` against ``thresholds``; empty list means pass.

    A metric that was not measured (missing or ``None``) fails: a gate must not pass by silence.
    """
    failures: list[str] = []
    for name, (op, bound) in thresholds.items():
        if op not in _OPS:
            raise ValueError(f"unknown operator {op!r} for {name}")
        value = summary.get(name)
        if value is None:
            failures.append(f"{name}: not measured (needs {op} {bound})")
        elif not _OPS[op](value, bound):
            failures.append(f"{name} = {value:.4g} fails {op} {bound}")
    return failures


def gate(summary: Mapping[str, Any]) -> list[str]:
    """Every gate that applies to this run: ``THRESHOLDS``, plus the draft gates when drafts
    were answered with bullets, plus point attribution when gold points were found."""
    failures = check_thresholds(summary, THRESHOLDS)
    if summary.get("bullets"):
        failures += check_thresholds(summary, DRAFT_THRESHOLDS)
    if summary.get("point_attribution") is not None:
        failures += check_thresholds(summary, POINT_THRESHOLDS)
    return failures
