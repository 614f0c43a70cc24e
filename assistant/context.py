"""What an answer mode may use, handed to it by the service: search, corpus statistics, the
glossary, the LLM (if any), the refusal and timing. A mode never imports the service.

A ``Context`` is made per question (it carries that question's timings and scope) over one
``Corpus`` snapshot (passages and what is mined from them), which the service swaps whole when
the index changes, so a mode never sees half an old and half a new index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant import glossary as glossary_mod
from assistant.extractive import idf_table
from assistant.prompts import refusal
from assistant.retrieval import Scope
from assistant.types import Answer, Passage
from assistant.understanding import Query

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.settings import Settings

# What a mode yields: (verified text so far, None) while writing, then ("", the final Answer).
Step = tuple[str, Answer | None]
Steps = Iterator[Step]


@dataclass(frozen=True)
class Corpus:
    """One consistent snapshot of the indexed passages and what is mined from them."""

    passages: tuple[Passage, ...]
    idf: dict[str, float]
    glossary: dict[str, glossary_mod.GlossaryEntry]
    regulations: list[glossary_mod.Regulation]

    @classmethod
    def of(cls, passages: list[Passage]) -> Corpus:
        ordered = tuple(sorted(passages, key=lambda p: (p.source, p.start)))
        return cls(
            passages=ordered,
            idf=idf_table(p.text for p in ordered),
            glossary=glossary_mod.mine_glossary(list(ordered)),
            regulations=glossary_mod.mine_regulations(list(ordered)),
        )

    def in_scope(self, scope: Scope) -> list[Passage]:
        """Every passage the scope allows (province and document filters, national and
        province-less documents beside a province asked), in document order."""
        provinces = scope.searched
        return [
            p
            for p in self.passages
            if (provinces is None or p.province in provinces) and (not scope.doc_ids or p.doc_id in scope.doc_ids)
        ]

    def document(self, doc_id: str) -> list[Passage]:
        return [p for p in self.passages if p.doc_id == doc_id]


@dataclass
class Context:
    """Per-question services for a mode."""

    settings: Settings
    corpus: Corpus
    search_fn: Callable[[Query, Scope, int | None], list[Passage]]
    llm_fn: Callable[[], BaseChatModel | None]
    want_llm: bool
    timings: dict[str, float] = field(default_factory=dict)
    # Progress for a person watching a long answer: (stage, details). Stages: "search",
    # "passages" (n, sources), "queue" (position in the LLM queue), "writing".
    on_status: Callable[[str, dict[str, Any]], None] | None = None
    # True once the person asked to stop («Dừng», a new chat): the LLM stops at its next token
    should_stop: Callable[[], bool] | None = None
    # e5 cosine of two texts (a second signal for draft-bullet support); None: words only
    similarity: Callable[[str, str], float] | None = None

    def stopped(self) -> bool:
        return self.should_stop is not None and self.should_stop()

    def status(self, stage: str, **details: Any) -> None:
        if self.on_status is not None:
            self.on_status(stage, details)

    @property
    def idf(self) -> dict[str, float]:
        return self.corpus.idf

    @property
    def llm(self) -> BaseChatModel | None:
        """The chat model when this answer may use one (loaded on first use), else None."""
        return self.llm_fn() if self.want_llm else None

    def search(self, q: Query, scope: Scope, k: int | None = None) -> list[Passage]:
        t = time.perf_counter()
        self.status("search")
        passages = self.search_fn(q, scope, k)
        self.status("passages", n=len(passages), sources=list(dict.fromkeys(p.source for p in passages)))
        self.timings["retrieve"] = self.timings.get("retrieve", 0.0) + (time.perf_counter() - t) * 1000
        return passages

    def timed(self, name: str, since: float) -> None:
        self.timings[name] = (time.perf_counter() - since) * 1000

    def refuse(self, q: Query, scope: Scope, mode: str, detail: str = "") -> Answer:
        """The fixed refusal sentence, naming what the corpus lacks (never a guess)."""
        if not detail and scope.filtered_out:
            detail = (
                f"câu hỏi nói về {', '.join(scope.filtered_out)} nhưng bộ lọc đang chỉ tìm trong "
                f"{', '.join(scope.provinces or [])}; bỏ bộ lọc để tìm trong mọi tài liệu"
            )
        elif not detail and scope.unknown_provinces:
            detail = "kho tài liệu chưa có văn bản về " + ", ".join(scope.unknown_provinces)
        elif not detail and q.provinces:
            detail = "không tìm thấy nội dung này trong tài liệu về " + ", ".join(q.provinces)
        return Answer(answer=refusal(detail), refused=True, mode=mode, path="refusal")
