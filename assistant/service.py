"""The assistant's front object: open the index, understand the question, scope it, hand it to
its mode, time it. CLI, HTTP API and the Gradio app all call ``Assistant.ask`` / ``stream``.

What each mode does lives in ``assistant/modes/``; the LLM-writing path in
``assistant/generation.py``. Reading never writes: an empty or missing index is reported with
the command that builds it (``dtbd ingest``); ``Assistant.ingest`` is the explicit write path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from assistant import health
from assistant.context import Context, Corpus, Steps
from assistant.modes import get_mode
from assistant.retrieval import HybridRetriever, Scope
from assistant.settings import Settings
from assistant.types import Answer, Citation, DocInfo, Passage
from assistant.understanding import Query, understand
from ingest.embeddings import embedder_name, get_embeddings
from ingest.index import (
    IndexError_,
    LexicalIndex,
    VectorIndex,
    chroma_client,
    generation,
    index_failure,
    release_view,
    sync_lexical,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ingest.pipeline import IngestReport

INGEST_HINT = "dtbd ingest"


def poor_scan_warning(citations: list[Citation], threshold: float) -> str:
    """A sentence for the reader (not a diagnostic) when a cited span was read by OCR from a page
    scored below ``threshold``: which citation, which page, and to check the original; else ""."""
    poor = [c for c in citations if c.passage.low_ocr_confidence(threshold)]
    if not poor:
        return ""
    where = "; ".join(f"[{c.n}] {c.passage.locator or c.source}" for c in poor)
    return (
        f"\n(Lưu ý: đoạn {where} được đọc từ bản quét chất lượng thấp bằng nhận dạng ký tự; "
        "hãy đối chiếu số liệu với bản gốc.)"
    )


class IndexEmpty(IndexError_):
    """The index holds no document yet: reading never builds it, the message says how."""


class Assistant:
    def __init__(
        self,
        settings: Settings,
        vectors: VectorIndex,
        lexical: LexicalIndex,
        embeddings: Embeddings,
    ) -> None:
        self.settings = settings
        self.vectors = vectors
        self.embeddings = embeddings
        self._llm: BaseChatModel | None = None
        self._llm_loaded = False
        self._lock = threading.RLock()
        self._generation = generation(settings)
        self._view = 0  # which fresh view of the embedded Chroma store the reader uses (see reload)
        self._set_lexical(lexical)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings, require_documents: bool = False) -> Assistant:
        """Open the index. With ``require_documents``, an empty index raises ``IndexEmpty``."""
        emb = get_embeddings(settings)
        try:
            vectors = VectorIndex(settings, embedder_name(emb))
            if require_documents and vectors.count() == 0:
                raise IndexEmpty(
                    f"Chỉ mục chưa có tài liệu ({settings.index_dir}). Hãy nạp kho tài liệu: `{INGEST_HINT}` "
                    f"(hoặc `make index`). / The index is empty: run `{INGEST_HINT}`."
                )
            if vectors.count():
                vectors.check_model(emb)  # the index's vectors came from this same model, or refuse
            lexical, _ = sync_lexical(Path(settings.index_dir), vectors)
        except IndexError_:
            raise
        except Exception as e:  # chromadb/OS errors: say where the index is and why it fails
            raise index_failure(settings, "Không mở được chỉ mục", "cannot open the index", e) from e
        return cls(settings, vectors, lexical, emb)

    def _set_lexical(self, lexical: LexicalIndex) -> None:
        retriever = HybridRetriever.from_settings(
            self.settings, self.vectors, lexical, self.embeddings, reopen=self._fresh_vectors
        )
        passages = [Passage.from_record(r.chunk_id, r.text, r.index_text, r.meta) for r in lexical.records]
        corpus = Corpus.of(passages)
        with self._lock:  # swapped together: a question sees one index, old or new
            self.lexical, self.retriever, self.corpus = lexical, retriever, corpus

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self.corpus.passages

    def reload(self) -> None:
        """Pick up what another process (or an upload) changed in the index, atomically: the
        vector store is reopened (an embedded Chroma keeps a stale HNSW graph otherwise) and the
        lexical index, passages and mined corpus facts are swapped together."""
        with self._lock:
            stamp = generation(self.settings)
            self._fresh_vectors()
            lexical, _ = sync_lexical(Path(self.settings.index_dir), self.vectors)
            self._set_lexical(lexical)
            self._generation = stamp
            health.count(health.INDEX_RELOADED)

    def _fresh_vectors(self) -> VectorIndex | None:
        """Another process's writes leave an embedded Chroma's HNSW graph stale: read through a
        fresh view of the same folder, then stop the old one (views are this reader's own; nothing
        else in the process, such as an ingest running here, is touched). None for a server."""
        if self.settings.chroma_url:
            return None
        with self._lock:
            old, self._view = self._view, self._view + 1
            client = chroma_client(self.settings, view=self._view)
            self.vectors = VectorIndex(self.settings, embedder_name(self.embeddings), client=client)
            release_view(self.settings, old)
            return self.vectors

    def refresh(self) -> bool:
        """Reload when the index's generation stamp changed since it was read (cheap per request)."""
        if generation(self.settings) == self._generation:
            return False
        self.reload()
        return True

    def ingest(self, paths: list[Path], progress: Callable[[int, int, str], None] | None = None) -> IngestReport:
        """The explicit write path: ingest these files, then read the new index."""
        from ingest.pipeline import run_ingest

        # searchable as soon as the lexical index has the new documents; vectors follow
        report = run_ingest(self.settings, paths, progress=progress, prune=False, on_searchable=self.reload)
        self.reload()
        return report

    def documents(self) -> list[DocInfo]:
        docs: dict[str, DocInfo] = {}
        for p in self.corpus.passages:
            d = docs.get(p.doc_id)
            if d is None:
                docs[p.doc_id] = DocInfo(p.doc_id, p.source, p.title, p.province, p.period, p.doc_type, 1)
            else:
                d.chunks += 1
        return sorted(docs.values(), key=lambda d: d.source)

    @property
    def llm(self) -> BaseChatModel | None:
        if not self._llm_loaded:
            with self._lock:
                if not self._llm_loaded:
                    from assistant.llm import get_chat_model

                    self._llm = get_chat_model(self.settings)
                    self._llm_loaded = True
        return self._llm

    def health(self) -> dict[str, Any]:
        """Counters an operator reads on ``/health``."""
        return {
            "index_id": self.settings.index_id(),
            "documents": len({p.doc_id for p in self.corpus.passages}),
            "chunks": len(self.corpus.passages),
            "generation": self._generation,
            "fallbacks": health.counters(),  # per process: dense retrieval failed, index reloaded
        }

    # -- public API -----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        mode: str = "qa",
        history: list[str] | None = None,
        provinces: list[str] | None = None,
        doc_ids: list[str] | None = None,
        use_llm: bool | None = None,
    ) -> Answer:
        final: Answer | None = None
        for _, ans in self.stream(question, mode, history, provinces, doc_ids, use_llm):
            if ans is not None:
                final = ans
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        mode: str = "qa",
        history: list[str] | None = None,
        provinces: list[str] | None = None,
        doc_ids: list[str] | None = None,
        use_llm: bool | None = None,
        on_status: Callable[[str, dict[str, Any]], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Steps:
        """Yields (verified text so far, None) while generating, then ("", final Answer).

        ``on_status(stage, details)`` hears progress ("search", "passages", "queue", "writing")
        for a person watching a long answer. ``should_stop()`` turning true stops the LLM at its
        next token (closing the generator stops it at the next verified sentence); either frees
        the LLM slot."""
        spec = get_mode(mode)
        question = (question or "").strip()
        if not question:
            raise ValueError("câu hỏi trống / empty question")
        t0 = time.perf_counter()
        self.refresh()
        q = understand(question, history)
        with self._lock:
            retriever, corpus = self.retriever, self.corpus
        ctx = Context(
            settings=self.settings,
            corpus=corpus,
            search_fn=lambda query, scope, k: self._search(retriever, query, scope, k),
            llm_fn=lambda: self.llm,
            want_llm=self.settings.llm != "none" if use_llm is None else use_llm,
            on_status=on_status,
            should_stop=should_stop,
            similarity=self._similarity,
        )
        ctx.timed("understand", t0)
        scope = retriever.scope_for(q, provinces, doc_ids)
        for text, ans in spec.answer(ctx, q, scope):
            if ans is not None:
                if not ans.refused:
                    ans.answer += poor_scan_warning(ans.citations, self.settings.ocr_min_confidence)
                ans.question = question
                ans.resolved_question = q.text
                ans.mode = spec.name
                ans.timings_ms = {**ctx.timings, "total": (time.perf_counter() - t0) * 1000}
            yield text, ans

    def _similarity(self, a: str, b: str) -> float:
        with self._lock:
            va, vb = self.embeddings.embed_documents([a, b])
        dot = sum(x * y for x, y in zip(va, vb, strict=True))
        norm = (sum(x * x for x in va) * sum(y * y for y in vb)) ** 0.5
        return float(dot / norm) if norm else 0.0

    def _search(self, retriever: HybridRetriever, q: Query, scope: Scope, k: int | None) -> list[Passage]:
        with self._lock:  # the C embedding engine and Chroma's client are shared by threads
            return retriever.search(q, scope, k=k)
