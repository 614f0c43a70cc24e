"""Ingest: files → documents → chunks → lexical index → vectors, idempotent, incremental, crash-safe.

Two phases. First every new or changed document is parsed, chunked and written to the lexical
index (SQLite, one transaction per document): it is searchable, and its figures answerable with
citations, within seconds. Then its vectors are computed and stored in Chroma, document by
document ("filled in behind"; ``ingest.index.status`` counts what is still pending).

Chroma is the source of truth for finished documents (no separate record-manager database that
could disagree with it after a ``kill -9``): each chunk carries its document's file hash and
chunk count, so a document is "done" only when exactly its current chunks are stored. New chunks
are written before stale ones are deleted, so a crash at any point leaves the old answerable
index in place; the next run repairs the lexical index from Chroma (only the difference) and
converges.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings

from ingest.chunking import chunk_document
from ingest.corpus import discover, load_document, source_of
from ingest.embeddings import EmbeddingError, embedder_name, get_embeddings
from ingest.index import (
    DocState,
    EmbeddingMismatch,
    IndexError_,
    LexicalIndex,
    LexicalIndexCorrupt,
    LexicalStore,
    VectorIndex,
    index_failure,
    index_lock,
    records_from_vectors,
)
from ingest.loaders import LoadError
from ingest.models import Chunk, SourceDocument
from ingest.settings import IngestSettings

__all__ = ["IngestReport", "check_writable", "index_lock", "run_ingest"]

T = TypeVar("T")
ProgressFn = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    files: int = 0
    docs_added: int = 0
    docs_updated: int = 0
    docs_removed: int = 0
    docs_skipped: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    lexical_rebuilt: bool = False
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    searchable_s: float = 0.0  # start → every new document in the lexical index (answerable)
    vectors_s: float = 0.0  # the vector phase (embedding + Chroma writes)
    failed_sources: set[str] = field(default_factory=set)
    seen_docs: set[str] = field(default_factory=set)  # loaded this run (kept by pruning)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return (
            f"{self.files} tệp/files: +{self.docs_added} mới/new, ~{self.docs_updated} cập nhật/updated, "
            f"-{self.docs_removed} xóa/removed, {self.docs_skipped} không đổi/unchanged, "
            f"{self.failed} lỗi/failed; đoạn/chunks +{self.chunks_added} -{self.chunks_removed} "
            f"(tổng/total {self.chunks_total}); {self.seconds:.1f} s"
        )


def check_writable(index_dir: Path) -> None:
    """Fail early, in words, when the index folder cannot be written."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise IndexError_(f"Không tạo được thư mục chỉ mục / cannot create index dir {index_dir}: {e}") from e
    if not os.access(index_dir, os.W_OK):
        raise IndexError_(f"Thư mục chỉ mục chỉ đọc / index dir is read-only: {index_dir}")
    probe = index_dir / f".write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"\0" * 4096)
    except OSError as e:
        raise IndexError_(
            f"Không ghi được vào thư mục chỉ mục (đầy đĩa?) / cannot write index dir {index_dir}: {e}"
        ) from e
    finally:
        probe.unlink(missing_ok=True)


def run_ingest(
    settings: IngestSettings,
    paths: list[Path] | None = None,
    progress: ProgressFn | None = None,
    prune: bool | None = None,
    on_searchable: Callable[[], None] | None = None,
) -> IngestReport:
    """Bring the index in line with the given files (default: the whole corpus folder).

    ``prune`` (default: only when the whole corpus folder is ingested) deletes the chunks of
    documents whose file is gone. A file that fails to load keeps its old chunks.
    ``on_searchable`` is called once every new document is in the lexical index (before the
    vectors are computed): a reader reloaded then can already answer from them. ``progress``
    ticks once per file as its vectors are stored, then ``(n, n, "")``.
    """
    t0 = time.perf_counter()
    corpus_dir = Path(settings.corpus_dir)
    targets = [Path(p) for p in (paths or [corpus_dir])]
    if prune is None:
        prune = paths is None or [p.resolve() for p in targets] == [corpus_dir.resolve()]
    report = IngestReport()
    for p in targets:
        if not p.exists():
            report.errors.append(f"{p}: không tồn tại (no such file or directory)")
    files = discover([p for p in targets if p.exists()])
    report.files = len(files)

    index_dir = Path(settings.index_dir)
    if not settings.chroma_url:
        check_writable(index_dir)
    emb = get_embeddings(settings)
    with index_lock(index_dir):
        try:
            vectors = VectorIndex(settings, embedder_name(emb))
            vectors.check_model(emb)
            states, versions = vectors.scan()
        except EmbeddingMismatch:
            raise
        except Exception as e:  # chromadb raises many types; all mean "index unusable"
            raise index_failure(settings, "Không mở được chỉ mục", "cannot open the index", e) from e
        store = _open_lexical(settings, vectors, versions, report)
        try:
            jobs = _searchable_phase(settings, files, states, store, report)
            report.searchable_s = time.perf_counter() - t0
            if on_searchable:
                on_searchable()
            _vector_phase(settings, files, jobs, vectors, store, emb, progress, report)
            if prune:
                seen = report.seen_docs
                for doc_id, st in states.items():
                    if doc_id not in seen and st.source not in report.failed_sources:
                        _write(settings, st.source, vectors.delete, sorted(st.ids))
                        _write(settings, st.source, store.remove, st.ids)
                        report.docs_removed += 1
                        report.chunks_removed += len(st.ids)
            _write(settings, "compact", store.compact)
            report.chunks_total = vectors.count()
        finally:
            store.close()
    report.seconds = time.perf_counter() - t0
    return report


@dataclass
class _Job:
    doc: SourceDocument
    chunks: list[Chunk]
    old: DocState | None


def _write(settings: IngestSettings, what: object, fn: Callable[..., T], *args: Any) -> T:
    """Run one index write; any failure becomes an ``IndexError_`` naming the index and the cause."""
    try:
        return fn(*args)
    except (IndexError_, EmbeddingError):
        raise
    except Exception as e:  # chromadb / sqlite3 / OS errors all mean "this write failed"
        raise index_failure(
            settings, f"Ghi chỉ mục thất bại khi nạp {what}", f"index write failed at {what}", e
        ) from e


def _open_lexical(
    settings: IngestSettings, vectors: VectorIndex, versions: list[str], report: IngestReport
) -> LexicalStore:
    """The lexical index, made consistent with Chroma (rebuilt if damaged, else only the
    difference repaired), without the chunks a killed run left pending."""
    index_dir = Path(settings.index_dir)
    try:
        try:
            store = LexicalStore(index_dir, vectors.name)
            try:
                store.check()
            except LexicalIndexCorrupt:
                store.close()
                raise
        except LexicalIndexCorrupt:
            LexicalIndex.build(index_dir, records_from_vectors(vectors), vectors.name).close()
            store = LexicalStore(index_dir, vectors.name)
            report.lexical_rebuilt = True
        if store.repair(vectors, versions):
            report.lexical_rebuilt = True
        store.drop_pending()
    except (OSError, sqlite3.Error) as e:
        raise index_failure(
            settings, "Không ghi được chỉ mục từ vựng", "cannot write lexical index", e
        ) from e
    return store


def _searchable_phase(
    settings: IngestSettings,
    files: list[Path],
    states: dict[str, DocState],
    store: LexicalStore,
    report: IngestReport,
) -> dict[Path, _Job]:
    """Parse and chunk every new or changed file and make its chunks searchable (lexical)."""
    corpus_dir = Path(settings.corpus_dir)
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    jobs: dict[Path, _Job] = {}
    for path in files:
        try:
            doc = load_document(path, corpus_dir, max_bytes)
        except LoadError as e:
            report.errors.append(str(e))
            report.failed_sources.add(source_of(path, corpus_dir))
            continue
        report.seen_docs.add(doc.doc_id)
        st = states.get(doc.doc_id)
        if st and st.complete_for(doc.sha256):
            report.docs_skipped += 1
            continue
        chunks = chunk_document(doc, settings.chunk_max_chars, settings.chunk_min_chars)
        if not chunks:
            report.errors.append(
                f"{path}: không có nội dung sau khi làm sạch (no content after boilerplate removal)"
            )
            continue
        _write(settings, path, store.add, _items(chunks), True)
        jobs[path] = _Job(doc, chunks, st)
    return jobs


def _vector_phase(
    settings: IngestSettings,
    files: list[Path],
    jobs: dict[Path, _Job],
    vectors: VectorIndex,
    store: LexicalStore,
    emb: Embeddings,
    progress: ProgressFn | None,
    report: IngestReport,
) -> None:
    """Store each searchable document's vectors, then retire its stale chunks (both indexes).

    Documents go ``settings.ingest_batch`` chunks at a time: one embedding call (the engine's batch is
    where its speed is) and one Chroma write for them all (~40 ms per call, whatever its size).
    New chunks are stored before stale ones are deleted, so a kill at any point leaves every
    document either as it was or complete, and the next run converges.
    """
    t = time.perf_counter()
    batch: list[tuple[int, Path, _Job]] = []

    def flush() -> None:
        if not batch:
            return
        first_i, first_path, _ = batch[0]
        what = first_path if len(batch) == 1 else f"{first_path} (+{len(batch) - 1} tệp/files)"
        if progress:
            progress(first_i, len(files), first_path.name)
        jobs_ = [j for _, _, j in batch]
        fresh = _write(settings, what, _embed_fresh, vectors, emb, jobs_)
        chunks = [c for j in jobs_ for c in j.chunks]
        _write(settings, what, vectors.upsert, chunks, [fresh.by_id[c.chunk_id] for c in chunks])
        stale: list[str] = []
        for job in jobs_:
            old_ids = job.old.ids if job.old else set()
            gone = sorted(old_ids - {c.chunk_id for c in job.chunks})
            stale += gone
            report.chunks_added += sum(1 for c in job.chunks if c.chunk_id in fresh.embedded)
            report.chunks_removed += len(gone)
            if job.old:
                report.docs_updated += 1
            else:
                report.docs_added += 1
        _write(settings, what, vectors.delete, stale)
        _write(settings, what, store.confirm, [c.chunk_id for c in chunks])
        _write(settings, what, store.remove, stale)
        if progress:
            for i, path, _ in batch:
                progress(i + 1, len(files), path.name)
        batch.clear()

    for i, path in enumerate(files):
        job = jobs.get(path)
        if job is None:
            continue
        batch.append((i, path, job))
        if sum(len(j.chunks) for _, _, j in batch) >= settings.ingest_batch:
            flush()
    flush()
    if progress:
        progress(len(files), len(files), "")
    report.vectors_s = time.perf_counter() - t


@dataclass
class _Vectors:
    by_id: dict[str, list[float]]
    embedded: set[str]  # the ids computed now (the rest were reused from the index)


def _embed_fresh(vectors: VectorIndex, emb: Embeddings, jobs: list[_Job]) -> _Vectors:
    """Vectors for every chunk of these documents: reused where the index has the chunk, the
    rest embedded in one call."""
    by_id: dict[str, list[float]] = {}
    fresh: list[Chunk] = []
    for job in jobs:
        old_ids = job.old.ids if job.old else set()
        reuse = vectors.embeddings_for([c.chunk_id for c in job.chunks if c.chunk_id in old_ids])
        by_id |= reuse
        fresh += [c for c in job.chunks if c.chunk_id not in reuse and c.chunk_id not in by_id]
    fresh_vecs = emb.embed_documents([c.index_text for c in fresh]) if fresh else []
    by_id |= dict(zip([c.chunk_id for c in fresh], fresh_vecs, strict=True))
    return _Vectors(by_id, {c.chunk_id for c in fresh})


def _items(chunks: list[Chunk]) -> list[tuple[str, str, str, dict[str, object]]]:
    """What the lexical index stores per chunk: the same metadata Chroma stores."""
    return [(c.chunk_id, c.text, c.index_text, {**c.metadata(), "text": c.text}) for c in chunks]
