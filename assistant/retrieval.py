"""Hybrid retrieval (BM25 + dense, fused) as a LangChain retriever, scoped by province.

A question about Lào Cai is searched only in Lào Cai's documents (and national ones): the filter is
applied inside both indexes (Chroma ``where`` and a BM25 weight mask), not after the fact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from assistant import health
from assistant.injection import clean_sentence_spans
from assistant.settings import Settings
from assistant.types import Passage
from assistant.understanding import Query, understand
from ingest.index import LexicalIndex, VectorIndex
from ingest.normalize import has_diacritics
from ingest.provinces import NATIONAL, scope_of

log = logging.getLogger(__name__)

RRF_K = 60  # reciprocal-rank-fusion constant, as in Cormack et al. (2009); only for fusion="rrf"
# A scope of up to this many chunks goes to Chroma as its id list (at 100k chunks: 13 ms for
# 1.5k ids, 28 ms for 10k, 53 ms for 30k); a larger one as a metadata filter (~60 ms, any size).
DENSE_IDS_MAX = 20_000
# BM25 searches of concurrent questions, each beside its own question's embedding (it takes no
# lock but the lexical index's own, so a waiting caller can never hold what it needs).
_LEXICAL_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dtbd-bm25")


@dataclass
class Scope:
    """Restrictions from the question or the UI's filters.

    ``provinces`` are document provinces (a current province asked reaches its former parts:
    ``origin`` says which asked province each came from). ``also`` are document provinces
    searched alongside them: national documents ("Trung ương") and documents that name no
    province; they answer what the asked province's own documents do not, and never stand in
    for a province's own figures (see ``assistant.modes.qa``).
    """

    provinces: list[str] | None = None
    doc_ids: list[str] | None = None
    unknown_provinces: list[str] | None = None  # named in the question, absent from the corpus
    also: list[str] | None = None
    origin: dict[str, str] = field(default_factory=dict)  # document province -> province asked
    filtered_out: list[str] | None = None  # provinces the question asks about that the UI filter excludes

    @property
    def empty(self) -> bool:
        """The question names only provinces the corpus does not cover (and nothing else may answer)."""
        if self.filtered_out:  # the user's own filter excludes every province the question asks about
            return True
        return bool(self.unknown_provinces) and not self.provinces and not self.also

    @property
    def searched(self) -> list[str] | None:
        """Every document province the search may return (None: no province restriction)."""
        if not self.provinces and not self.also:
            return None
        return list(dict.fromkeys([*(self.provinces or []), *(self.also or [])]))


class HybridRetriever(BaseRetriever):
    """BM25 over normalized syllables + e5 vectors, fused by weighted scores or RRF."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    vectors: VectorIndex
    lexical: LexicalIndex
    embeddings: Embeddings
    k: int
    fusion: str
    dense_weight: float
    dense_weight_accentless: float
    year_boost: float
    candidates: int
    mode: str = "hybrid"  # hybrid | dense | lexical (for measuring)
    reopen: Callable[[], VectorIndex | None] | None = None  # a fresh view of the vector store, to retry once
    _usable_cache: dict[str, bool] = PrivateAttr(default_factory=dict)  # chunk id -> has a clean sentence

    @classmethod
    def from_settings(
        cls, settings: Settings, vectors: VectorIndex, lexical: LexicalIndex, embeddings: Embeddings, **over: Any
    ) -> HybridRetriever:
        """The retriever with every knob from settings (``over`` replaces some, for measuring)."""
        knobs: dict[str, Any] = {
            "k": settings.top_k,
            "fusion": settings.fusion,
            "dense_weight": settings.dense_weight,
            "dense_weight_accentless": settings.dense_weight_accentless,
            "year_boost": settings.year_boost,
            "candidates": settings.candidates,
        }
        return cls(vectors=vectors, lexical=lexical, embeddings=embeddings, **{**knobs, **over})

    # -- corpus facts -------------------------------------------------------------------
    def model_post_init(self, __context: Any) -> None:
        # province/document → chunk ids, built once: scoping must not walk 100k records per query
        by_province: dict[str, set[str]] = {}
        by_doc: dict[str, set[str]] = {}
        for r in self.lexical.records:
            by_province.setdefault(str(r.meta.get("province", "")), set()).add(r.chunk_id)
            by_doc.setdefault(str(r.meta.get("doc_id", "")), set()).add(r.chunk_id)
        object.__setattr__(self, "_by_province", by_province)
        object.__setattr__(self, "_by_doc", by_doc)

    def corpus_provinces(self) -> set[str]:
        return {p for p in self._by_province if p}  # type: ignore[attr-defined]

    def scope_for(
        self, query: Query, provinces: list[str] | None = None, doc_ids: list[str] | None = None
    ) -> Scope:
        """The documents a question may be answered from.

        A current province reaches the former provinces merged into it (Phú Thọ → Hòa Bình, Vĩnh
        Phúc, Phú Thọ), unless every period asked ends before the merger; a former province is
        only itself (Lào Cai's 2010–2015 figures are not Yên Bái's). National documents and
        documents that name no province stay searchable beside them. A province the corpus
        does not hold leaves only those (a general question is answered by the law, which applies
        everywhere; a figure only by a passage that names that province and no other).
        """
        known = self.corpus_provinces()
        origin: dict[str, str] = {}
        unknown: list[str] = []
        for asked in query.provinces:
            reach = [p for p in scope_of(asked, query.years) if p in known]
            if not reach:
                unknown.append(asked)
            for p in reach:
                origin.setdefault(p, asked)
        in_corpus = list(origin)
        chosen = list(provinces) if provinces else in_corpus
        if provinces and in_corpus and not set(provinces) & set(in_corpus):
            # "Nghệ An …?" with the filter on Lạng Sơn: Lạng Sơn's figure is not Nghệ An's
            return Scope(provinces=list(provinces), doc_ids=doc_ids or None,
                         filtered_out=list(dict.fromkeys(origin.values())))
        if provinces and in_corpus:
            chosen = [p for p in provinces if p in set(in_corpus)]
        also: list[str] = []
        if not provinces and query.provinces:
            # which of these passages may stand in for the province's own is the answer mode's call
            also = [p for p in (NATIONAL, "") if p in self._by_province]  # type: ignore[attr-defined]
        return Scope(
            provinces=chosen or None,
            doc_ids=doc_ids or None,
            unknown_provinces=unknown or None,
            also=also or None,
            origin=origin if not provinces else {},
        )

    # -- search -------------------------------------------------------------------------
    def _allowed_ids(self, scope: Scope) -> set[str] | None:
        if not scope.searched and not scope.doc_ids:
            return None
        by_province: dict[str, set[str]] = self._by_province  # type: ignore[attr-defined]
        by_doc: dict[str, set[str]] = self._by_doc  # type: ignore[attr-defined]
        out: set[str] | None = None
        searched = scope.searched
        if searched:
            out = set().union(*(by_province.get(p, set()) for p in searched))
        if scope.doc_ids:
            docs = set().union(*(by_doc.get(d, set()) for d in scope.doc_ids))
            out = docs if out is None else out & docs
        return out

    def _where(self, scope: Scope) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        searched = scope.searched
        if searched:
            clauses.append({"province": {"$in": searched}})
        if scope.doc_ids:
            clauses.append({"doc_id": {"$in": list(scope.doc_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def search(self, query: Query, scope: Scope | None = None, k: int | None = None) -> list[Passage]:
        """Best passages for the query within the scope, best first."""
        k = k or self.k
        scope = scope or self.scope_for(query)
        if scope.empty:
            return []
        allowed = self._allowed_ids(scope)
        if allowed is not None and not allowed:
            return []
        n = max(self.candidates, k)
        lex_part: Future[list[tuple[str, float]]] | None = None
        dense: list[tuple[str, float]] = []
        if self.mode == "hybrid":
            # BM25 runs beside the question's embedding and the vector search (the model, numpy
            # and Chroma release the GIL). Not the other way round: the dense side may reopen the
            # vector store, which takes the caller's locks, so it stays in the caller's thread.
            lex_part = _LEXICAL_POOL.submit(self._lexical, query, n, allowed)
        if self.mode in ("hybrid", "dense"):
            dense = self._dense(self.embeddings.embed_query(query.search_text), n, scope, allowed)
        if lex_part is not None:
            lex = lex_part.result()
        elif self.mode == "lexical":
            lex = self._lexical(query, n, allowed)
        else:
            lex = []
        # e5 reads accent-free Vietnamese poorly; BM25 over accent-free tokens does not care
        weight = (
            self.dense_weight
            if has_diacritics(query.text)
            else min(self.dense_weight, self.dense_weight_accentless)
        )
        fused = self._fuse(lex, dense, weight)
        fused = self._boost_years(fused, query)
        out: list[Passage] = []
        for cid, score in fused:
            if len(out) >= k:
                break
            i = self.lexical.by_id.get(cid)
            if i is None:  # indexed after the lexical snapshot; it will be there after sync
                continue
            r = self.lexical.records[i]
            if not self._usable(cid, r.text):  # only instructions to the reader: never a candidate
                continue
            out.append(Passage.from_record(r.chunk_id, r.text, r.index_text, r.meta, score))
        return out

    def _lexical(self, query: Query, n: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        """BM25 hits within the scope (a weight mask inside the index, then checked)."""
        mask = self.lexical.mask(allowed) if allowed is not None else None
        lex = self.lexical.search(query.search_text, n, allowed=mask)
        return [(cid, s) for cid, s in lex if cid in allowed] if allowed is not None else lex

    def _usable(self, chunk_id: str, text: str) -> bool:
        """A passage with at least one sentence that is not an instruction (or its payload).

        Passages that only address the assistant would otherwise fill the top k and push out the
        documents that answer; they are skipped before the cut (cached per index snapshot)."""
        if chunk_id not in self._usable_cache:
            self._usable_cache[chunk_id] = bool(clean_sentence_spans(text))
        return self._usable_cache[chunk_id]

    def _dense(
        self, vec: list[float], n: int, scope: Scope, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Vector hits within the scope; one retry on a freshly opened store (an embedded Chroma
        read while another process writes can fail once), then BM25 alone, counted on /health —
        never silently.

        The scope's chunk ids (from the lexical snapshot, the same chunks the metadata filter
        selects, minus those indexed after it, which could not be shown anyway) are the faster
        filter up to ``DENSE_IDS_MAX``."""
        where = self._where(scope)
        if allowed is not None and len(allowed) <= DENSE_IDS_MAX:
            try:  # chunks still waiting for their vectors are not in Chroma: never ask for them
                return self.vectors.query(vec, n, ids=sorted(allowed - self.lexical.pending_ids))
            except Exception as e:  # an id deleted since this snapshot: the filter finds the rest
                log.info("dense search by ids failed, searching by metadata: %s", e)
        try:
            return self.vectors.query(vec, n, where=where)
        except Exception as first:
            fresh = self.reopen() if self.reopen is not None else None
            error: Exception = first
            if fresh is not None:
                object.__setattr__(self, "vectors", fresh)
                try:
                    return fresh.query(vec, n, where=where)
                except Exception as again:  # vector store unreachable (e.g. Chroma server down)
                    error = again
            log.warning("dense retrieval failed, answering from the lexical index: %s", error)
            health.count(health.DENSE_FAILED)
            return []

    def _fuse(
        self, lex: list[tuple[str, float]], dense: list[tuple[str, float]], dense_weight: float | None = None
    ) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        if self.fusion == "rrf":
            for ranked in (lex, dense):
                for rank, (cid, _) in enumerate(ranked):
                    scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        else:
            dw = self.dense_weight if dense_weight is None else dense_weight
            a = dw if lex and dense else (1.0 if dense else 0.0)
            for ranked, w in ((dense, a), (lex, 1.0 - a)):
                if not ranked:
                    continue
                vals = [s for _, s in ranked]
                hi, lo = max(vals), min(vals)
                span = (hi - lo) or 1.0
                for cid, s in ranked:
                    scores[cid] = scores.get(cid, 0.0) + w * ((s - lo) / span if len(ranked) > 1 else 1.0)
        return sorted(scores.items(), key=lambda kv: -kv[1])

    def _boost_years(self, fused: list[tuple[str, float]], query: Query) -> list[tuple[str, float]]:
        if not query.years:
            return fused
        out = []
        for cid, s in fused:
            i = self.lexical.by_id.get(cid)
            if i is not None:
                r = self.lexical.records[i]
                period = str(r.meta.get("period", ""))
                if any(str(a) in r.text or str(a) in period for a, _ in query.years):
                    s += self.year_boost
            out.append((cid, s))
        return sorted(out, key=lambda kv: -kv[1])

    # -- LangChain retriever interface ------------------------------------------------
    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        q = understand(query)
        return [passage_to_document(p) for p in self.search(q)]


def passage_to_document(p: Passage) -> Document:
    meta = {k: v for k, v in p.__dict__.items() if k not in ("text",)}
    return Document(page_content=p.text, metadata=meta, id=p.chunk_id)
