"""The two indexes: Chroma (vectors, the source of truth) and a BM25 lexical index derived from it.

Chroma holds every chunk with its metadata, so after any crash the lexical index can be
rebuilt from it; the lexical index is written to a temporary folder and swapped in whole,
and carries a manifest of checksums so that a damaged copy is detected and rebuilt.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ingest.models import Chunk
from ingest.normalize import lexical_tokens
from ingest.settings import IngestSettings
from ingest.weights import sha256_file

LEXICAL_DIR = "lexical"
MANIFEST = "manifest.json"
RECORDS = "chunks.jsonl"
_BATCH = 500


class IndexError_(RuntimeError):
    """The index cannot be read or written (read-only dir, disk full, server down)."""


def _write_problem(index_dir: Path) -> str:
    """Why the index folder refuses writes right now ("" when a 64 KB test write succeeds)."""
    probe = index_dir / f".diagnose-{os.getpid()}"
    try:
        with probe.open("wb") as f:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            return "đĩa đầy / disk full"
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "thư mục chỉ đọc / read-only"
        return e.strerror or type(e).__name__
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
    return ""


def index_failure(settings: IngestSettings, what_vi: str, what_en: str, exc: BaseException) -> IndexError_:
    """An ``IndexError_`` that says where the index is and, when it can tell, why (full, read-only)."""
    where = settings.chroma_url or str(Path(settings.index_dir))
    detail = " ".join(str(exc).split()) or type(exc).__name__
    low = detail.lower()
    if "disk is full" in low or "no space left" in low:
        hint = "đĩa đầy / disk full"
    elif "readonly database" in low or "read-only" in low:
        hint = "thư mục chỉ đọc / read-only"
    elif settings.chroma_url:
        hint = ""
    else:
        hint = _write_problem(Path(settings.index_dir))
    return IndexError_(f"{what_vi} / {what_en}: {where}{f' ({hint})' if hint else ''}: {detail}")


class LexicalIndexCorrupt(RuntimeError):
    """The lexical index on disk does not match its manifest."""


@dataclass
class Record:
    """One indexed chunk as stored: what retrieval hands on as a passage."""

    chunk_id: str
    text: str
    index_text: str
    meta: dict[str, Any]


@dataclass
class DocState:
    sha256: set[str] = field(default_factory=set)
    n_chunks: set[int] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    source: str = ""

    def complete_for(self, sha: str) -> bool:
        """All chunks of the current file version are there, and nothing else."""
        return self.sha256 == {sha} and self.n_chunks == {len(self.ids)}


def _slug(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]+", "-", name).strip("-")[:40]


def chroma_client(settings: IngestSettings) -> Any:
    """Embedded persistent client by default; HTTP client when ``DTBD_CHROMA_URL`` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = Path(settings.index_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorIndex:
    """A Chroma collection per embedding model (vectors of two models never mix)."""

    def __init__(self, settings: IngestSettings, embedder_name: str, client: Any | None = None) -> None:
        self.client = client or chroma_client(settings)
        self.name = f"{settings.collection_prefix}_{_slug(embedder_name)}"
        self.collection = self.client.get_or_create_collection(
            name=self.name, metadata={"hnsw:space": "cosine", "embedder": embedder_name}
        )

    def count(self) -> int:
        return int(self.collection.count())

    def iter_all(self, include_embeddings: bool = False) -> Iterator[tuple[str, str, dict[str, Any], Any]]:
        """Every stored chunk, in pages (so 100k chunks do not need one giant response)."""
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        offset = 0
        while True:
            page = self.collection.get(limit=_BATCH * 4, offset=offset, include=include)
            ids = page["ids"]
            if not ids:
                return
            embs = page.get("embeddings") if include_embeddings else None
            for i, cid in enumerate(ids):
                yield cid, page["documents"][i], page["metadatas"][i], (embs[i] if embs is not None else None)
            offset += len(ids)

    def all_ids(self) -> list[str]:
        out: list[str] = []
        offset = 0
        while True:
            page = self.collection.get(limit=_BATCH * 8, offset=offset, include=[])
            if not page["ids"]:
                return out
            out.extend(page["ids"])
            offset += len(page["ids"])

    def versions(self) -> list[str]:
        """``id:doc_sha256`` per chunk: changes when a chunk or its document's metadata changes."""
        out: list[str] = []
        offset = 0
        while True:
            page = self.collection.get(limit=_BATCH * 8, offset=offset, include=["metadatas"])
            if not page["ids"]:
                return out
            out.extend(
                f"{cid}:{m.get('doc_sha256', '')}"
                for cid, m in zip(page["ids"], page["metadatas"], strict=True)
            )
            offset += len(page["ids"])

    def doc_states(self) -> dict[str, DocState]:
        states: dict[str, DocState] = {}
        offset = 0
        while True:
            page = self.collection.get(limit=_BATCH * 4, offset=offset, include=["metadatas"])
            if not page["ids"]:
                return states
            for cid, meta in zip(page["ids"], page["metadatas"], strict=True):
                st = states.setdefault(str(meta["doc_id"]), DocState(source=str(meta.get("source", ""))))
                st.sha256.add(str(meta.get("doc_sha256", "")))
                st.n_chunks.add(int(meta.get("n_chunks", 0)))
                st.ids.add(cid)
            offset += len(page["ids"])

    def embeddings_for(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self.collection.get(ids=ids, include=["embeddings"])
        return {cid: list(map(float, e)) for cid, e in zip(got["ids"], got["embeddings"], strict=True)}

    def upsert(self, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        for i in range(0, len(chunks), _BATCH):
            part = chunks[i : i + _BATCH]
            self.collection.upsert(
                ids=[c.chunk_id for c in part],
                documents=[c.index_text for c in part],
                metadatas=[{**c.metadata(), "text": c.text} for c in part],  # type: ignore[misc]
                embeddings=np.asarray(vectors[i : i + _BATCH], dtype=np.float32),
            )

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            self.collection.delete(ids=ids[i : i + _BATCH])

    def query(
        self, vector: list[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        n = self.count()
        if n == 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(k, n), where=where or None, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


class LexicalIndex:
    """BM25 (bm25s) over ``lexical_tokens`` of each chunk's normalized text, plus the records."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dir = self.root / LEXICAL_DIR
        self.records: list[Record] = []
        self.by_id: dict[str, int] = {}
        self._bm25: Any = None
        self.ids_digest = ""

    # -- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, root: Path, records: list[Record], collection: str) -> LexicalIndex:
        """Build in a temp folder and swap it in, so readers never see a half-written index."""
        import bm25s

        root = Path(root)
        tmp = root / f".{LEXICAL_DIR}.tmp-{os.getpid()}-{time.time_ns()}"
        tmp.mkdir(parents=True)
        try:
            records = sorted(records, key=lambda r: r.chunk_id)
            retriever = bm25s.BM25()
            corpus_tokens = [lexical_tokens(r.index_text) or ["∅"] for r in records]
            if records:
                retriever.index(corpus_tokens, show_progress=False)
                retriever.save(str(tmp / "bm25"), show_progress=False)
            with (tmp / RECORDS).open("w", encoding="utf-8") as f:
                for r in records:
                    f.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")
            files = sorted(p for p in tmp.rglob("*") if p.is_file())
            manifest = {
                "collection": collection,
                "count": len(records),
                "ids_digest": _ids_digest([f"{r.chunk_id}:{r.meta.get('doc_sha256', '')}" for r in records]),
                "files": {p.relative_to(tmp).as_posix(): sha256_file(p) for p in files},
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            old = root / f".{LEXICAL_DIR}.old-{os.getpid()}-{time.time_ns()}"
            target = root / LEXICAL_DIR
            if target.exists():
                target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return cls.load(root)

    # -- loading ----------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path) -> LexicalIndex:
        import bm25s

        idx = cls(root)
        manifest_path = idx.dir / MANIFEST
        if not manifest_path.exists():
            raise LexicalIndexCorrupt(f"thiếu chỉ mục từ vựng / lexical index missing: {idx.dir}")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            for rel, digest in manifest["files"].items():
                p = idx.dir / rel
                if not p.exists() or sha256_file(p) != digest:
                    raise LexicalIndexCorrupt(f"tệp chỉ mục hỏng / corrupt lexical index file: {p}")
            with (idx.dir / RECORDS).open(encoding="utf-8") as f:
                idx.records = [Record(**json.loads(line)) for line in f]
            if manifest["count"] and idx.records:
                idx._bm25 = bm25s.BM25.load(str(idx.dir / "bm25"), show_progress=False)
        except LexicalIndexCorrupt:
            raise
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise LexicalIndexCorrupt(
                f"chỉ mục từ vựng không đọc được / unreadable lexical index: {e}"
            ) from e
        idx.by_id = {r.chunk_id: i for i, r in enumerate(idx.records)}
        idx.ids_digest = str(manifest["ids_digest"])
        return idx

    # -- searching --------------------------------------------------------------------
    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; ``allowed`` is a 0/1 mask over records."""
        if self._bm25 is None or not self.records:
            return []
        vocab = self._bm25.vocab_dict
        tokens = [t for t in lexical_tokens(query) if t in vocab]
        if not tokens:
            return []
        k = min(k, len(self.records))
        docs, scores = self._bm25.retrieve(
            [tokens], k=k, show_progress=False, weight_mask=allowed, n_threads=0
        )
        out = []
        for i, s in zip(docs[0], scores[0], strict=True):
            if s > 0:
                out.append((self.records[int(i)].chunk_id, float(s)))
        return out

    def mask(self, keep: set[str]) -> np.ndarray:
        """0/1 weights over records whose id is in ``keep``."""
        m = np.zeros(len(self.records), dtype=np.float32)
        for cid in keep:
            i = self.by_id.get(cid)
            if i is not None:
                m[i] = 1.0
        return m


def records_from_vectors(vectors: VectorIndex) -> list[Record]:
    return [
        Record(chunk_id=cid, text=str(meta.get("text", "")), index_text=doc, meta=dict(meta))
        for cid, doc, meta, _ in vectors.iter_all()
    ]


def sync_lexical(root: Path, vectors: VectorIndex, force: bool = False) -> tuple[LexicalIndex, bool]:
    """Load the lexical index, rebuilding it from Chroma when missing, corrupt or out of date.

    Returns the index and whether it was rebuilt.
    """
    if not force:
        versions = vectors.versions()
        try:
            lex = LexicalIndex.load(root)
            if lex.ids_digest == _ids_digest(versions):
                return lex, False
        except LexicalIndexCorrupt:
            pass
    return LexicalIndex.build(root, records_from_vectors(vectors), vectors.name), True
