"""Ingest: files → documents → chunks → Chroma + BM25, idempotent, incremental, crash-safe.

Chroma is the single source of truth (no separate record-manager database that could
disagree with it after a ``kill -9``): each chunk carries its document's file hash and
chunk count, so a document is "done" only when exactly its current chunks are stored.
New chunks are written before stale ones are deleted, so a crash at any point leaves the
old answerable index in place and the next run converges.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ingest.chunking import chunk_document
from ingest.corpus import discover, load_document, source_of
from ingest.embeddings import embedder_name, get_embeddings
from ingest.index import IndexError_, VectorIndex, index_failure, sync_lexical
from ingest.loaders import LoadError
from ingest.models import Chunk
from ingest.settings import IngestSettings

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


@contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (a second ingest waits)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".ingest.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
) -> IngestReport:
    """Bring the index in line with the given files (default: the whole corpus folder).

    ``prune`` (default: only when the whole corpus folder is ingested) deletes the chunks of
    documents whose file is gone. A file that fails to load keeps its old chunks.
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
            states = vectors.doc_states()
        except Exception as e:  # chromadb raises many types; all mean "index unusable"
            raise index_failure(settings, "Không mở được chỉ mục", "cannot open the index", e) from e
        seen: set[str] = set()
        failed_sources: set[str] = set()
        max_bytes = int(settings.max_file_mb * 1024 * 1024)
        for i, path in enumerate(files):
            if progress:
                progress(i, len(files), path.name)
            try:
                doc = load_document(path, corpus_dir, max_bytes)
            except LoadError as e:
                report.errors.append(str(e))
                failed_sources.add(source_of(path, corpus_dir))
                continue
            seen.add(doc.doc_id)
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
            try:
                added, removed = _replace_document(vectors, emb, chunks, st.ids if st else set())
            except Exception as e:
                raise index_failure(
                    settings, f"Ghi chỉ mục thất bại khi nạp {path}", f"index write failed at {path}", e
                ) from e
            report.chunks_added += added
            report.chunks_removed += removed
            if st:
                report.docs_updated += 1
            else:
                report.docs_added += 1
        if progress:
            progress(len(files), len(files), "")
        if prune:
            for doc_id, st in states.items():
                if doc_id not in seen and st.source not in failed_sources:
                    vectors.delete(sorted(st.ids))
                    report.docs_removed += 1
                    report.chunks_removed += len(st.ids)
        try:
            _, rebuilt = sync_lexical(index_dir, vectors, force=False)
        except OSError as e:
            raise index_failure(
                settings, "Không ghi được chỉ mục từ vựng", "cannot write lexical index", e
            ) from e
        report.lexical_rebuilt = rebuilt
        report.chunks_total = vectors.count()
    report.seconds = time.perf_counter() - t0
    return report


def _replace_document(
    vectors: VectorIndex, emb: Embeddings, chunks: list[Chunk], old_ids: set[str]
) -> tuple[int, int]:
    """Upsert the document's chunks (reusing stored vectors), then delete its stale ones."""
    new_ids = [c.chunk_id for c in chunks]
    reuse = vectors.embeddings_for([cid for cid in new_ids if cid in old_ids])
    fresh = [c for c in chunks if c.chunk_id not in reuse]
    fresh_vecs = emb.embed_documents([c.index_text for c in fresh]) if fresh else []
    by_id = dict(zip([c.chunk_id for c in fresh], fresh_vecs, strict=True)) | reuse
    vectors.upsert(chunks, [by_id[c.chunk_id] for c in chunks])
    stale = sorted(old_ids - set(new_ids))
    vectors.delete(stale)
    return len(fresh), len(stale)
