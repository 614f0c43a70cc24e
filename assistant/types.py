"""What crosses the assistant's boundaries: passages in, answers with citations out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["qa", "draft", "learn"]
MODES: tuple[Mode, ...] = ("qa", "draft", "learn")


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk; ``text`` is exactly the document's text at ``[start:end]``."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    province: str
    period: str
    doc_type: str
    section: str
    start: int
    end: int
    text: str
    index_text: str
    score: float = 0.0

    @classmethod
    def from_record(
        cls, chunk_id: str, text: str, index_text: str, meta: dict[str, Any], score: float = 0.0
    ) -> Passage:
        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta.get("doc_id", "")),
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            province=str(meta.get("province", "")),
            period=str(meta.get("period", "")),
            doc_type=str(meta.get("doc_type", "")),
            section=str(meta.get("section", "")),
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            text=text,
            index_text=index_text,
            score=score,
        )


@dataclass(frozen=True)
class Citation:
    """A numbered marker's target: an exact span of a document, with its passage for display."""

    n: int
    doc_id: str
    source: str
    title: str
    province: str
    section: str
    start: int
    end: int
    quote: str
    passage: Passage

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "source": self.source,
            "title": self.title,
            "province": self.province,
            "section": self.section,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
        }


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
    notes: list[str] = field(default_factory=list)  # why a draft was replaced, etc. (for the UI/eval)
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
            lines.append(f"[{c.n}] {c.title} — {c.province} — {c.source} [{c.start}:{c.end}]")
            lines.append(f"    «{c.quote}»")
        return "\n".join(lines).rstrip()
