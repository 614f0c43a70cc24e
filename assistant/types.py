"""What crosses the assistant's boundaries: passages in, answers with citations out.

One shape per concept: a ``Passage`` *is* an ingest ``Chunk`` plus its retrieval score; a
``Citation`` is a span of a passage (its document fields are read from the passage); the
JSON schemas the HTTP API documents (``CitationModel``, ``AnswerModel``) are derived from
these dataclasses, so a field added here appears in ``dtbd ask --json``, ``POST /ask`` and
the OpenAPI page at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

from ingest.models import Chunk

Mode = str  # a name in ``assistant.modes.REGISTRY`` ("qa", "draft", "learn", …)

_CHUNK_FIELDS = {f.name: f for f in dataclasses.fields(Chunk)}
# Chunk fields stored as flat index metadata, with the type to read them back as.
_CHUNK_SCALARS: dict[str, type] = {
    name: hint
    for name, hint in get_type_hints(Chunk).items()
    if name not in ("chunk_id", "text", "index_text") and hint in (str, int, float, bool)
}


@dataclass(frozen=True)
class Passage(Chunk):
    """A retrieved chunk; ``text`` is exactly the document's text at ``[start:end]``."""

    score: float = 0.0

    @classmethod
    def from_record(
        cls, chunk_id: str, text: str, index_text: str, meta: dict[str, Any], score: float = 0.0
    ) -> Passage:
        """A passage from an index record (Chroma metadata holds every other Chunk field)."""
        values: dict[str, Any] = {}
        for name, kind in _CHUNK_SCALARS.items():
            if name in meta:
                values[name] = kind(meta[name])
            elif _CHUNK_FIELDS[name].default is dataclasses.MISSING:
                values[name] = kind()  # a record without it: "" or 0
        return cls(chunk_id=chunk_id, text=text, index_text=index_text, score=score, **values)


# The fields of a citation in JSON, in order: the passage's document fields, then the span.
CITATION_DOC_FIELDS: tuple[str, ...] = ("doc_id", "source", "title", "province", "section")


@dataclass(frozen=True)
class Citation:
    """A numbered marker's target: an exact span ``[start:end]`` of ``passage``'s document."""

    n: int
    start: int
    end: int
    quote: str
    passage: Passage

    @property
    def doc_id(self) -> str:
        return self.passage.doc_id

    @property
    def source(self) -> str:
        return self.passage.source

    @property
    def title(self) -> str:
        return self.passage.title

    @property
    def province(self) -> str:
        return self.passage.province

    @property
    def section(self) -> str:
        return self.passage.section

    def renumbered(self, n: int) -> Citation:
        return dataclasses.replace(self, n=n)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n}
        out.update({k: getattr(self.passage, k) for k in CITATION_DOC_FIELDS})
        out.update({"start": self.start, "end": self.end, "quote": self.quote})
        for k in CITATION_EXTRA_FIELDS:
            value = getattr(self.passage, k, None)
            if value not in (None, "", 0, -1.0):
                out[k] = value
        return out


# Chunk fields that a citation carries only when set (a page number, a sheet/cell locator, OCR
# confidence): present for scans and spreadsheets, absent for plain text, so the JSON stays small.
CITATION_EXTRA_FIELDS: tuple[str, ...] = tuple(
    k for k in ("page", "page_end", "locator", "ocr_conf") if k in _CHUNK_FIELDS
)


@dataclass
class Answer:
    answer: str
    refused: bool
    mode: Mode
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    path: str = "extractive"  # extractive | llm | refusal
    question: str = ""
    resolved_question: str = ""
    notes: list[str] = field(default_factory=list)  # diagnostics (why a draft was replaced …), never in `answer`
    retrieved_sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The stable ``dtbd ask --json`` contract (extra keys are additive)."""
        return {
            "answer": self.answer,
            "refused": self.refused,
            "mode": self.mode,
            "citations": [c.to_json() for c in self.citations],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "path": self.path,
            "resolved_question": self.resolved_question,
            "retrieved_sources": self.retrieved_sources,
            "notes": self.notes,
        }

    def render_text(self) -> str:
        lines = [self.answer, ""]
        for c in self.citations:
            where = f" — {c.passage.locator}" if getattr(c.passage, "locator", "") else ""
            lines.append(f"[{c.n}] {c.title} — {c.province} — {c.source} [{c.start}:{c.end}]{where}")
            lines.append(f"    «{c.quote}»")
        return "\n".join(lines).rstrip()


@dataclass
class DocInfo:
    """One indexed document as the library lists it (``GET /documents``, the app's table)."""

    doc_id: str
    source: str
    title: str
    province: str
    period: str
    doc_type: str
    chunks: int


# -- JSON schemas for the HTTP API, derived from the dataclasses above ------------------------------
def _model(name: str, fields: dict[str, Any], doc: str) -> type[BaseModel]:
    model = create_model(name, __config__=ConfigDict(extra="allow"), **fields)
    model.__doc__ = doc
    return model


CitationModel = _model(
    "CitationModel",
    {"n": (int, ...)}
    | {k: (str, ...) for k in CITATION_DOC_FIELDS}
    | {"start": (int, ...), "end": (int, ...), "quote": (str, ...)},
    "One citation of ``Answer.to_json()``: ``text[start:end] == quote`` in the document ``source``.",
)

AnswerModel = _model(
    "AnswerModel",
    {
        "answer": (str, ...),
        "refused": (bool, ...),
        "mode": (str, ...),
        "citations": (list[CitationModel], ...),  # type: ignore[valid-type]
        "timings_ms": (dict[str, float], ...),
        "path": (str, ...),
        "resolved_question": (str, ...),
        "retrieved_sources": (list[str], ...),
        "notes": (list[str], ...),
    },
    "``Answer.to_json()``, as ``dtbd ask --json`` prints it; extra keys may be added later.",
)

DocInfoModel = _model(
    "DocInfoModel",
    {name: (hint, ...) for name, hint in get_type_hints(DocInfo).items()},
    "One indexed document.",
)
