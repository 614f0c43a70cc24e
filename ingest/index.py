"""The two indexes: Chroma (vectors) and a BM25 lexical index in SQLite, both updated in place.

Chroma holds every chunk whose vector is computed, with its metadata: the source of truth for
finished documents. The lexical index (``lexical/lexical.sqlite3``) holds the same chunks plus
those an ingest has made searchable before their vector is stored ("pending"); adding or
removing a document rewrites only the posting lists of its terms, in one transaction. Rows
carry checksums and posting lists CRCs, so damage is detected and the index rebuilt from
Chroma; a crash between the two writes is repaired by changing only the difference.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import math
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.models import Chunk
from ingest.normalize import lexical_tokens
from ingest.settings import IngestSettings

log = logging.getLogger(__name__)

LEXICAL_DIR = "lexical"
MANIFEST = "manifest.json"
DB_NAME = "lexical.sqlite3"
FORMAT = "dtbd-lexical-sqlite/2"  # a folder in any other format is rebuilt from Chroma
LOCK_FILE = ".ingest.lock"
BM25_K1 = 1.5  # bm25s's defaults (Lucene BM25): the scores the eval and retrieval_compare measured
BM25_B = 0.75
EMPTY_TOKEN = "∅"  # a chunk without tokens still counts as a document (as bm25s indexed it)
SQLITE_BUSY_S = 60.0  # a reader waits this long for a writer's commit (commits take milliseconds)
SQL_PARAMS = 900  # below SQLite's default limit of host parameters per statement
CACHE_VALUES = (
    64_000_000  # 4-byte values a reader keeps decoded (256 MB): a 100k-chunk library's common terms
)
DENSE_FRACTION = 8  # a term in more than 1/8 of the chunks is cached as a dense row (one vector add)
BUILD_BATCH = 10_000
SEGMENT_POSTINGS = 4096  # a term's last segment grows up to this, then a new one starts
COMPACT_FRACTION = 0.2  # removed rows' postings are dropped once they are this share of all  # chunks per transaction when rebuilding from Chroma (bounds memory)
PROBE_TEXT = "Kết quả đào tạo, bồi dưỡng cán bộ, công chức cấp xã giai đoạn 2021 - 2025."
PROBE_KEY = "embed_probe"
PROBE_MIN_COSINE = 0.98  # one model on two engines/machines differs by rounding; another model is far off
_BATCH = 500
_I32 = np.dtype("<i4")


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
        hint = _write_problem(Path(settings.index_dir)) or (
            f"chỉ mục có thể bị hỏng: dựng lại từ corpus/ bằng `rm -rf {where}` rồi `dtbd ingest` / "
            f"the index may be damaged: rebuild it from corpus/ with `rm -rf {where}` then `dtbd ingest`"
        )
    return IndexError_(f"{what_vi} / {what_en}: {where}{f' ({hint})' if hint else ''}: {detail[:300]}")


class EmbeddingMismatch(IndexError_):
    """The index was built with another embedding model than the one configured."""


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


def _view_path(settings: IngestSettings, view: int) -> str:
    """The embedded store's folder, named differently per reader view ("…/chroma/./." for view 2).

    Chroma keeps one system per folder *name* in a process, and a system does not see vectors
    another process wrote after it loaded them (its HNSW graph is stale). A reader that needs a
    fresh view opens the same folder under a new name: a new system, while every other client in
    the process (an ingest running here) keeps its own untouched."""
    return str(Path(settings.index_dir) / "chroma") + "/." * view


def release_view(settings: IngestSettings, view: int) -> None:
    """Stop a reader view's Chroma system (only ever used by that reader); view 0 is shared, kept."""
    if view <= 0 or settings.chroma_url:
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(_view_path(settings, view), None)
    SharedSystemClient._identifier_to_refcount.pop(_view_path(settings, view), None)
    if system is not None:
        with contextlib.suppress(Exception):
            system.stop()


def chroma_client(settings: IngestSettings, view: int = 0) -> Any:
    """Embedded persistent client by default; HTTP client when ``DTBD_CHROMA_URL`` is set.
    ``view`` > 0: a reader's fresh view of the embedded store (see ``_view_path``)."""
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
    return chromadb.PersistentClient(path=_view_path(settings, view), settings=chroma_settings)


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

    def check_model(self, embeddings: Embeddings) -> None:
        """Record the model's identity in the collection at first use (its dimension and its
        vector for a fixed probe sentence); refuse a model whose probe vector differs.

        Names can lie (a server behind ``DTBD_EMBED_URL`` swapped for another model under the
        same name); the probe cannot: the same weights give the same vector up to rounding.
        """
        vec = [float(x) for x in embeddings.embed_query(PROBE_TEXT)]
        meta = dict(self.collection.metadata or {})
        stored = meta.get(PROBE_KEY)
        if not stored:
            keep = {k: v for k, v in meta.items() if not str(k).startswith("hnsw:")}
            self.collection.modify(
                metadata={**keep, PROBE_KEY: json.dumps([round(x, 6) for x in vec]), "embed_dim": len(vec)}
            )
            return
        ref = np.asarray(json.loads(str(stored)), dtype=np.float64)
        got = np.asarray(vec, dtype=np.float64)
        same = (
            ref.shape == got.shape
            and float(ref @ got / ((np.linalg.norm(ref) * np.linalg.norm(got)) or 1.0)) >= PROBE_MIN_COSINE
        )
        if not same:
            raise EmbeddingMismatch(
                f"Mô hình nhúng khác với mô hình đã tạo chỉ mục / the embedding model differs from the "
                f"one that built the index: bộ sưu tập / collection {self.name} "
                f"({meta.get('embedder', '?')}, {len(ref)} chiều/dims) nhưng mô hình đang dùng / but the "
                f"configured model gives {len(got)} chiều/dims and other vectors. Dùng đúng mô hình "
                "(DTBD_EMBEDDER, DTBD_EMBED_URL, DTBD_EMBED_MODEL) hoặc một DTBD_INDEX_DIR mới / use the "
                "same model, or a new DTBD_INDEX_DIR"
            )

    def scan(self) -> tuple[dict[str, DocState], list[str]]:
        """Document states and ``id:doc_sha256`` versions in one pass over the metadata."""
        states: dict[str, DocState] = {}
        versions: list[str] = []
        offset = 0
        while True:
            page = self.collection.get(limit=_BATCH * 8, offset=offset, include=["metadatas"])
            if not page["ids"]:
                return states, versions
            for cid, meta in zip(page["ids"], page["metadatas"], strict=True):
                st = states.setdefault(str(meta["doc_id"]), DocState(source=str(meta.get("source", ""))))
                st.sha256.add(str(meta.get("doc_sha256", "")))
                st.n_chunks.add(int(meta.get("n_chunks", 0)))
                st.ids.add(cid)
                versions.append(f"{cid}:{meta.get('doc_sha256', '')}")
            offset += len(page["ids"])

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
        self,
        vector: list[float],
        k: int,
        where: dict[str, Any] | None = None,
        ids: list[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first, among ``ids`` and/or the ``where`` filter.

        A known id list is the fast scope: at 100k chunks Chroma searches 1.5k given ids in
        ~9 ms, the same chunks found by a metadata ``where`` in ~60 ms (``make bench``). No
        ``count()`` first: Chroma returns fewer than ``k`` by itself, and counting 100k chunks
        costs 14 ms a question."""
        if ids is not None and not ids:
            return []
        res = self.collection.query(
            query_embeddings=[vector],
            n_results=min(k, len(ids)) if ids is not None else k,
            where=where or None,
            ids=ids,
            include=["distances"],
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]


# -- one writer at a time ---------------------------------------------------------------------


_held = threading.local()  # index folders this thread holds the writer lock for (re-entrant)


@contextlib.contextmanager
def index_lock(index_dir: Path, blocking: bool = True) -> Iterator[bool]:
    """One writer at a time per index folder (a second ingest waits).

    Re-entrant within a thread (an ingest that calls back into a reader, or a delete that then
    syncs the lexical index). With ``blocking=False`` it yields False at once when another
    thread or process holds the lock: a reader then uses the index as it is.
    """
    index_dir = Path(index_dir)
    key = str(index_dir.resolve())
    held: dict[str, int] = _held.__dict__.setdefault("paths", {})
    if held.get(key):
        held[key] += 1
        try:
            yield True
        finally:
            held[key] -= 1
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK_FILE).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        held[key] = 1
        try:
            yield True
        finally:
            held.pop(key, None)
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- the lexical index: BM25 over SQLite, updated in place --------------------------------------


def versions_digest(versions: Iterable[str]) -> str:
    """Order-free digest of ``id:doc_sha256`` strings (XOR of 128-bit hashes): updatable one
    chunk at a time, so the writer keeps it current without rereading 100k ids."""
    x = 0
    for v in versions:
        x ^= _vhash(v)
    return f"{x:032x}"


def _vhash(version: str) -> int:
    return int.from_bytes(hashlib.sha256(version.encode()).digest()[:16], "big")


def _ids_digest(ids: list[str]) -> str:  # kept for callers of the old name
    return versions_digest(ids)


def _row_checksum(chunk_id: str, version: str, text: str, index_text: str, meta: str, dl: int) -> str:
    payload = json.dumps([chunk_id, version, text, index_text, meta, dl], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _term_counts(index_text: str) -> Counter[str]:
    return Counter(lexical_tokens(index_text) or [EMPTY_TOKEN])


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
    row INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    text TEXT NOT NULL,
    index_text TEXT NOT NULL,
    meta TEXT NOT NULL,
    dl INTEGER NOT NULL,
    nterms INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    checksum TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(pending);
CREATE TABLE IF NOT EXISTS postings(
    term TEXT NOT NULL, seg INTEGER NOT NULL,
    rows BLOB NOT NULL, tfs BLOB NOT NULL, dls BLOB NOT NULL, crc INTEGER NOT NULL,
    PRIMARY KEY (term, seg)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead(row INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS dirty(term TEXT PRIMARY KEY) WITHOUT ROWID;
"""
_META_ZERO = {
    "n": "0",
    "sum_dl": "0",
    "n_postings": "0",
    "dead_postings": "0",
    "digest": "0" * 32,
    "pending": "0",
}


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=SQLITE_BUSY_S)
    else:
        db = sqlite3.connect(str(path), check_same_thread=False, timeout=SQLITE_BUSY_S)
    db.isolation_level = None  # explicit BEGIN/COMMIT
    return db


def _meta(db: sqlite3.Connection) -> dict[str, str]:
    return {k: v for k, v in db.execute("SELECT key, value FROM meta")}


def _blob(a: np.ndarray) -> bytes:
    return a.astype(_I32, copy=False).tobytes()


class LexicalStore:
    """Write access to the lexical database (the ingest writer, or a reader repairing it).

    Every change is one SQLite transaction that also updates the counters BM25 needs (chunks,
    total length), the digest of confirmed chunks and the generation stamp, so a ``kill -9``
    leaves either the old or the new state, never a mix.
    """

    def __init__(self, root: Path, collection: str = "", create: bool = True) -> None:
        self.root = Path(root)
        self.dir = self.root / LEXICAL_DIR
        path = self.dir / DB_NAME
        if not path.exists():
            if not create:
                raise LexicalIndexCorrupt(f"thiếu chỉ mục từ vựng / lexical index missing: {self.dir}")
            _create_empty(self.dir, collection)
        if not (self.dir / MANIFEST).exists():
            raise LexicalIndexCorrupt(f"thiếu tệp mô tả / lexical manifest missing: {self.dir / MANIFEST}")
        try:
            self.db = _connect(path)
            self.meta = _meta(self.db)
            if set(_META_ZERO) - set(self.meta):
                raise LexicalIndexCorrupt(f"chỉ mục từ vựng thiếu dữ liệu / lexical index incomplete: {path}")
        except sqlite3.DatabaseError as e:
            raise LexicalIndexCorrupt(
                f"chỉ mục từ vựng không đọc được / unreadable lexical index: {e}"
            ) from e

    def close(self) -> None:
        self.db.close()

    def check(self) -> None:
        """Cheap consistency check for the writer (counters against the rows; one pass of SQL).
        Row checksums and posting-list CRCs are verified when a reader loads the index."""
        try:
            n, sum_dl, n_postings, pending = self.db.execute(
                "SELECT count(*), coalesce(sum(dl), 0), coalesce(sum(nterms), 0), coalesce(sum(pending), 0) FROM chunks"
            ).fetchone()
        except sqlite3.DatabaseError as e:
            raise LexicalIndexCorrupt(
                f"chỉ mục từ vựng không đọc được / unreadable lexical index: {e}"
            ) from e
        want = tuple(int(self.meta[k]) for k in ("n", "sum_dl", "n_postings", "pending"))
        if (int(n), int(sum_dl), int(n_postings), int(pending)) != want:
            raise LexicalIndexCorrupt(
                f"bộ đếm không khớp / lexical counters do not match: {self.dir / DB_NAME}"
            )

    # -- reading ----------------------------------------------------------------------------
    def confirmed_versions(self) -> dict[str, str]:
        """chunk id → ``id:doc_sha256`` of every chunk whose vector is in Chroma."""
        return {
            cid: f"{cid}:{ver}"
            for cid, ver in self.db.execute("SELECT chunk_id, version FROM chunks WHERE pending = 0")
        }

    def pending_ids(self) -> set[str]:
        return {cid for (cid,) in self.db.execute("SELECT chunk_id FROM chunks WHERE pending = 1")}

    def ids(self) -> set[str]:
        return {cid for (cid,) in self.db.execute("SELECT chunk_id FROM chunks")}

    # -- writing ----------------------------------------------------------------------------
    def add(self, items: list[tuple[str, str, str, dict[str, Any]]], pending: bool) -> int:
        """Add chunks ``(chunk_id, text, index_text, meta)``; ids already stored are left alone
        except that a confirmed add confirms a pending row. Returns the number of new rows."""
        if not items:
            return 0
        with self._txn() as cur:
            return self._add(cur, items, pending)

    def confirm(self, ids: list[str]) -> None:
        """Mark chunks as having their vector in Chroma (they join the digest)."""
        with self._txn() as cur:
            self._confirm(cur, ids)

    def remove(self, ids: Iterable[str]) -> int:
        with self._txn() as cur:
            return self._remove(cur, list(ids))

    def drop_pending(self) -> int:
        """Forget chunks a killed run left without vectors (the next run re-adds what it needs)."""
        ids = sorted(self.pending_ids())
        return self.remove(ids) if ids else 0

    def repair(self, vectors: VectorIndex, chroma_versions: list[str] | None = None) -> bool:
        """Make the confirmed chunks exactly Chroma's (by ``id:doc_sha256``), changing only the
        difference. Returns whether anything changed."""
        chroma = {v.rsplit(":", 1)[0]: v for v in (chroma_versions or vectors.versions())}
        mine = self.confirmed_versions()
        if versions_digest(chroma.values()) == self.meta["digest"] and len(chroma) == len(mine):
            return False
        stale = [cid for cid, v in mine.items() if chroma.get(cid) != v]
        missing = [cid for cid, v in chroma.items() if mine.get(cid) != v]
        if not stale and not missing:
            return False
        with self._txn() as cur:
            self._remove(cur, stale + [cid for cid in missing if cid not in mine])
            for i in range(0, len(missing), _BATCH * 4):
                got = vectors.collection.get(
                    ids=missing[i : i + _BATCH * 4], include=["documents", "metadatas"]
                )
                items = [
                    (cid, str(meta.get("text", "")), str(doc), dict(meta))
                    for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
                ]
                self._add(cur, items, pending=False)
        return True

    # -- internals --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _txn(self) -> Iterator[sqlite3.Cursor]:
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            self.meta = _meta(self.db)
            yield cur
            self.meta["generation"] = uuid.uuid4().hex
            cur.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", self.meta.items())
            cur.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                cur.execute("ROLLBACK")
            self.meta = _meta(self.db)
            raise

    def _bump(self, key: str, delta: int) -> None:
        self.meta[key] = str(int(self.meta[key]) + delta)

    def _xor_digest(self, version: str) -> None:
        self.meta["digest"] = f"{int(self.meta['digest'], 16) ^ _vhash(version):032x}"

    def _add(
        self, cur: sqlite3.Cursor, items: list[tuple[str, str, str, dict[str, Any]]], pending: bool
    ) -> int:
        stored = _select_in(
            cur, "SELECT chunk_id, pending, version FROM chunks WHERE chunk_id IN ({})", [i[0] for i in items]
        )
        # same chunk, new document version (e.g. its sidecar changed): the row is replaced
        versions = {cid: str(meta.get("doc_sha256", "")) for cid, _, _, meta in items}
        replaced = [cid for cid, _, ver in stored if versions[cid] != ver]
        self._remove(cur, replaced)
        have = {cid: bool(p) for cid, p, _ in stored if cid not in replaced}
        if not pending:
            self._confirm(cur, [cid for cid, p in have.items() if p])
        adds: dict[str, list[tuple[int, int, int]]] = {}
        n = 0
        for cid, text, index_text, meta in items:
            if cid in have:
                continue
            have[cid] = pending
            counts = _term_counts(index_text)
            dl = sum(counts.values())
            version = str(meta.get("doc_sha256", ""))
            meta_json = json.dumps(meta, ensure_ascii=False, sort_keys=True)
            cur.execute(
                "INSERT INTO chunks(chunk_id, doc_id, version, text, index_text, meta, dl, nterms, pending, checksum)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cid,
                    str(meta.get("doc_id", "")),
                    version,
                    text,
                    index_text,
                    meta_json,
                    dl,
                    len(counts),
                    int(pending),
                    _row_checksum(cid, version, text, index_text, meta_json, dl),
                ),
            )
            row = int(cur.lastrowid or 0)
            for term, tf in counts.items():
                adds.setdefault(term, []).append((row, tf, dl))
            self._bump("n", 1)
            self._bump("sum_dl", dl)
            self._bump("n_postings", len(counts))
            if pending:
                self._bump("pending", 1)
            else:
                self._xor_digest(f"{cid}:{version}")
            n += 1
        _append_postings(cur, adds)
        return n

    def _confirm(self, cur: sqlite3.Cursor, ids: list[str]) -> None:
        rows = _select_in(
            cur, "SELECT row, chunk_id, version FROM chunks WHERE pending = 1 AND chunk_id IN ({})", ids
        )
        for row, cid, version in rows:
            cur.execute("UPDATE chunks SET pending = 0 WHERE row = ?", (row,))
            self._xor_digest(f"{cid}:{version}")
            self._bump("pending", -1)

    def _remove(self, cur: sqlite3.Cursor, ids: list[str]) -> int:
        rows = _select_in(
            cur,
            "SELECT row, chunk_id, version, index_text, dl, nterms, pending FROM chunks WHERE chunk_id IN ({})",
            ids,
        )
        dirty: set[str] = set()
        for row, cid, version, index_text, dl, nterms, pending in rows:
            dirty.update(_term_counts(index_text))
            cur.execute("DELETE FROM chunks WHERE row = ?", (row,))
            cur.execute("INSERT OR IGNORE INTO dead(row) VALUES (?)", (row,))
            self._bump("n", -1)
            self._bump("sum_dl", -int(dl))
            self._bump("n_postings", -int(nterms))
            self._bump("dead_postings", int(nterms))
            if pending:
                self._bump("pending", -1)
            else:
                self._xor_digest(f"{cid}:{version}")
        # Posting lists are not rewritten: a removed row no longer has a record, so readers skip
        # it; ``compact`` drops such postings later, for the terms marked here.
        cur.executemany("INSERT OR IGNORE INTO dirty(term) VALUES (?)", [(t,) for t in sorted(dirty)])
        return len(rows)

    def compact(self, force: bool = False) -> bool:
        """Drop removed rows' postings and merge each touched term's segments into one, once
        they are over ``COMPACT_FRACTION`` of all postings (or ``force``). Returns whether it ran."""
        live, dead = int(self.meta["n_postings"]), int(self.meta["dead_postings"])
        if not dead or (not force and dead <= COMPACT_FRACTION * (live + dead)):
            return False
        with self._txn() as cur:
            gone = np.fromiter((r for (r,) in cur.execute("SELECT row FROM dead")), dtype=_I32)
            terms = [t for (t,) in cur.execute("SELECT term FROM dirty")]
            for i in range(0, len(terms), SQL_PARAMS):
                part = terms[i : i + SQL_PARAMS]
                segs: dict[str, list[tuple[bytes, bytes, bytes]]] = {}
                for t, r, f, d in _select_in(
                    cur, "SELECT term, rows, tfs, dls FROM postings WHERE term IN ({})", part
                ):
                    segs.setdefault(t, []).append((r, f, d))
                _select_in(cur, "DELETE FROM postings WHERE term IN ({})", part)
                for t, blobs in segs.items():
                    rows, tfs, dls = (
                        np.concatenate([np.frombuffer(b[j], dtype=_I32) for b in blobs]) for j in range(3)
                    )
                    keep = ~np.isin(rows, gone)
                    if keep.any():
                        _put_segment(cur, t, 0, rows[keep], tfs[keep], dls[keep])
            cur.execute("DELETE FROM dead")
            cur.execute("DELETE FROM dirty")
            self.meta["dead_postings"] = "0"
        return True


def _select_in(cur: sqlite3.Cursor, sql: str, values: list[str]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(values), SQL_PARAMS):
        part = values[i : i + SQL_PARAMS]
        out.extend(cur.execute(sql.format(",".join("?" * len(part))), part).fetchall())
    return out


def _put_segment(
    cur: sqlite3.Cursor, term: str, seg: int, rows: np.ndarray, tfs: np.ndarray, dls: np.ndarray
) -> None:
    blobs = (_blob(rows), _blob(tfs), _blob(dls))
    cur.execute(
        "INSERT OR REPLACE INTO postings(term, seg, rows, tfs, dls, crc) VALUES (?, ?, ?, ?, ?, ?)",
        (term, seg, *blobs, zlib.crc32(b"".join(blobs))),
    )


def _append_postings(cur: sqlite3.Cursor, adds: dict[str, list[tuple[int, int, int]]]) -> None:
    """Append new postings to each term's last segment while it is small, else start a new one:
    a change never rewrites a common term's long list (that is what keeps it cheap at 100k)."""
    terms = sorted(adds)
    tails: dict[str, tuple[int, int]] = {}
    for t, seg, nbytes in _select_in(
        cur, "SELECT term, seg, length(rows) FROM postings WHERE term IN ({})", terms
    ):
        if t not in tails or seg > tails[t][0]:
            tails[t] = (int(seg), int(nbytes) // _I32.itemsize)
    for term in terms:
        new = np.asarray(adds[term], dtype=_I32).reshape(-1, 3)
        rows, tfs, dls = new[:, 0], new[:, 1], new[:, 2]
        seg, size = tails.get(term, (-1, SEGMENT_POSTINGS))
        if size < SEGMENT_POSTINGS:
            r, f, d = cur.execute(
                "SELECT rows, tfs, dls FROM postings WHERE term = ? AND seg = ?", (term, seg)
            ).fetchone()
            rows, tfs, dls = (
                np.concatenate([np.frombuffer(b, dtype=_I32), a]) for b, a in ((r, rows), (f, tfs), (d, dls))
            )
        else:
            seg += 1
        _put_segment(cur, term, seg, rows, tfs, dls)


def _create_empty(lex_dir: Path, collection: str) -> None:
    """A new, empty lexical folder, made in a temp folder and renamed into place."""
    root = lex_dir.parent
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{LEXICAL_DIR}.tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()
    try:
        db = _connect(tmp / DB_NAME)
        db.executescript(_SCHEMA)
        meta = {**_META_ZERO, "collection": collection, "generation": uuid.uuid4().hex}
        db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
        db.close()
        manifest = {"format": FORMAT, "db": DB_NAME, "collection": collection}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        old = root / f".{LEXICAL_DIR}.old-{os.getpid()}-{time.time_ns()}"
        if lex_dir.exists():
            lex_dir.rename(old)
        tmp.rename(lex_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class LexicalIndex:
    """A reader's view of the lexical index: the records (what retrieval hands on as passages)
    and BM25 search over ``lexical_tokens``, with bm25s's Lucene scoring (k1 1.5, b 0.75).

    The posting lists live in SQLite and are read per query, so a change to one document
    rewrites only its terms' lists: no rebuild, no whole index in memory.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dir = self.root / LEXICAL_DIR
        self.records: list[Record] = []
        self.by_id: dict[str, int] = {}
        self.ids_digest = ""
        self.generation = ""
        self.pending = 0
        self.pending_ids: set[str] = set()  # searchable, but their vectors are not stored yet
        self._db: sqlite3.Connection | None = None
        self._pos = np.zeros(0, dtype=np.int64)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[np.ndarray | None, np.ndarray]] = {}
        self._cost: dict[str, int] = {}
        self._cache_cost = 0
        self._cache_generation = ""
        self._avgdl = 0.0

    # -- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, root: Path, records: list[Record], collection: str) -> LexicalIndex:
        """Build from scratch in a temp folder and swap it in (readers never see half an index)."""
        root = Path(root)
        tmp_root = root / f".{LEXICAL_DIR}.build-{os.getpid()}-{time.time_ns()}"
        try:
            store = LexicalStore(tmp_root, collection)
            for i in range(0, len(records), BUILD_BATCH):
                store.add(
                    [(r.chunk_id, r.text, r.index_text, r.meta) for r in records[i : i + BUILD_BATCH]],
                    pending=False,
                )
            store.close()
            target = root / LEXICAL_DIR
            old = root / f".{LEXICAL_DIR}.old-{os.getpid()}-{time.time_ns()}"
            if target.exists():
                target.rename(old)
            (tmp_root / LEXICAL_DIR).rename(target)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp_root, ignore_errors=True)
        return cls.load(root)

    # -- loading ----------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path) -> LexicalIndex:
        """Open and verify (row checksums, posting-list CRCs, counters); raise
        ``LexicalIndexCorrupt`` on any damage."""
        idx = cls(root)
        path = idx.dir / DB_NAME
        try:
            manifest = json.loads((idx.dir / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT or not path.exists():
                raise LexicalIndexCorrupt(
                    f"chỉ mục từ vựng sai định dạng / wrong lexical index format: {idx.dir}"
                )
            db = _connect(path, readonly=not os.access(idx.dir, os.W_OK))
            meta = _meta(db)
            max_row = 0
            sum_dl = 0
            n_postings = 0
            rows: list[int] = []
            for row, cid, version, text, index_text, meta_json, dl, nterms, pending, checksum in db.execute(
                "SELECT row, chunk_id, version, text, index_text, meta, dl, nterms, pending, checksum"
                " FROM chunks ORDER BY chunk_id"
            ):
                if _row_checksum(cid, version, text, index_text, meta_json, dl) != checksum:
                    raise LexicalIndexCorrupt(f"bản ghi hỏng / corrupt lexical record {cid} in {path}")
                idx.records.append(Record(cid, text, index_text, json.loads(meta_json)))
                rows.append(int(row))
                max_row = max(max_row, int(row))
                sum_dl += int(dl)
                n_postings += int(nterms)
                idx.pending += int(pending)
                if pending:
                    idx.pending_ids.add(cid)
            got_postings = 0
            for rows_b, tfs_b, dls_b, crc in db.execute("SELECT rows, tfs, dls, crc FROM postings"):
                if zlib.crc32(rows_b + tfs_b + dls_b) != crc or not len(rows_b) == len(tfs_b) == len(dls_b):
                    raise LexicalIndexCorrupt(f"danh sách từ hỏng / corrupt posting list in {path}")
                got_postings += len(rows_b) // _I32.itemsize
            counts = (len(idx.records), sum_dl, n_postings, got_postings)
            expected = (
                int(meta["n"]),
                int(meta["sum_dl"]),
                int(meta["n_postings"]),
                int(meta["n_postings"]) + int(meta["dead_postings"]),
            )
            if counts != expected:
                raise LexicalIndexCorrupt(f"bộ đếm không khớp / lexical counters do not match: {path}")
        except LexicalIndexCorrupt:
            raise
        except (OSError, ValueError, KeyError, TypeError, sqlite3.DatabaseError) as e:
            raise LexicalIndexCorrupt(
                f"chỉ mục từ vựng không đọc được / unreadable lexical index: {e}"
            ) from e
        idx._db = db
        idx._pos = np.full(max_row + 1, -1, dtype=np.int64)
        idx._pos[np.asarray(rows, dtype=np.int64)] = np.arange(len(rows), dtype=np.int64)
        idx.by_id = {r.chunk_id: i for i, r in enumerate(idx.records)}
        idx._avgdl = sum_dl / len(idx.records) if idx.records else 0.0
        idx.ids_digest = str(meta["digest"])
        idx.generation = str(meta.get("generation", ""))
        return idx

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- searching --------------------------------------------------------------------
    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; ``allowed`` is a 0/1 mask over records."""
        if self._db is None or not self.records:
            return []
        qcounts = Counter(lexical_tokens(query))
        if not qcounts:
            return []
        with self._lock:
            meta = _meta(self._db)
            if meta.get("generation") != self._cache_generation:  # the index changed: scores did too
                self._cache.clear()
                self._cost.clear()
                self._cache_cost = 0
                self._cache_generation = meta.get("generation", "")
            missing = [t for t in qcounts if t not in self._cache]
            if missing:
                fetched = _select_in(
                    self._db.cursor(),
                    "SELECT term, rows, tfs, dls FROM postings WHERE term IN ({})",
                    sorted(missing),
                )
                self._cache_terms(fetched)
            parts = [(self._cache[t], qcounts[t]) for t in qcounts if t in self._cache]
        if not parts:
            return []
        scores = np.zeros(len(self.records), dtype=np.float32)  # float32, as bm25s scores
        for (pos, part), qcount in parts:
            if pos is None:  # a very common term: kept as a dense row
                scores += part if qcount == 1 else qcount * part
            else:
                scores[pos] += part if qcount == 1 else qcount * part  # a row appears once per list
        if allowed is not None:
            scores *= allowed
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]
        return [(self.records[int(i)].chunk_id, float(scores[i])) for i in top if scores[i] > 0]

    def _cache_terms(self, fetched: list[tuple[Any, ...]]) -> None:
        """Each term's BM25 contribution per record position, kept until the index changes (the
        common terms of a library come back in almost every question). A term in more than
        ``1/DENSE_FRACTION`` of the records is kept as a dense row (one vector add per query).

        The statistics (chunks, mean length, document frequency) are this snapshot's records':
        exactly what a fresh build over them gives (bm25s's Lucene BM25).
        """
        n_rec = len(self.records)
        segs: dict[str, list[tuple[bytes, bytes, bytes]]] = {}
        for term, rows_b, tfs_b, dls_b in fetched:
            segs.setdefault(str(term), []).append((rows_b, tfs_b, dls_b))
        for term, blobs in segs.items():
            rows, tf_i, dl_i = (
                np.concatenate([np.frombuffer(b[j], dtype=_I32) for b in blobs]) for j in range(3)
            )
            pos = np.where(rows < len(self._pos), self._pos[np.minimum(rows, len(self._pos) - 1)], -1)
            ok = pos >= 0  # removed rows, and rows written after this snapshot, are not in it
            df = int(ok.sum())
            if not df:
                continue
            tf, dl = tf_i[ok].astype(np.float64), dl_i[ok].astype(np.float64)
            idf = math.log(1.0 + (n_rec - df + 0.5) / (df + 0.5))
            part = (idf * tf / (BM25_K1 * ((1 - BM25_B) + BM25_B * dl / self._avgdl) + tf)).astype(np.float32)
            pos = pos[ok]
            entry: tuple[np.ndarray | None, np.ndarray]
            if df * DENSE_FRACTION > n_rec:
                dense = np.zeros(n_rec, dtype=np.float32)
                dense[pos] = part
                entry, cost = (None, dense), n_rec
            else:
                entry, cost = (pos.astype(np.int32), part), 2 * df
            while self._cache and self._cache_cost + cost > CACHE_VALUES:  # oldest first
                old = next(iter(self._cache))
                self._cache_cost -= self._cost.pop(old)
                del self._cache[old]
            self._cache[str(term)] = entry
            self._cost[str(term)] = cost
            self._cache_cost += cost

    def mask(self, keep: set[str]) -> np.ndarray:
        """0/1 weights over records whose id is in ``keep``."""
        m = np.zeros(len(self.records), dtype=np.float32)
        for cid in keep:
            i = self.by_id.get(cid)
            if i is not None:
                m[i] = 1.0
        return m


def generation(where: Path | IngestSettings) -> str:
    """A stamp that changes with every change to the index ("" when there is none yet): cheap
    enough to call per request, so a reader reloads only when the writer changed something."""
    root = Path(where.index_dir) if isinstance(where, IngestSettings) else Path(where)
    path = root / LEXICAL_DIR / DB_NAME
    if not path.exists():
        return ""
    try:
        db = _connect(path, readonly=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return ""
    return str(row[0]) if row else ""


def status(where: Path | IngestSettings) -> dict[str, Any]:
    """What ``/health`` and the app show while a library is indexed: chunks searchable (lexical),
    chunks still waiting for their vector, and the generation stamp."""
    root = Path(where.index_dir) if isinstance(where, IngestSettings) else Path(where)
    path = root / LEXICAL_DIR / DB_NAME
    out: dict[str, Any] = {"chunks": 0, "pending_vectors": 0, "generation": "", "indexing": False}
    if path.exists():
        try:
            db = _connect(path, readonly=True)
            try:
                meta = _meta(db)
            finally:
                db.close()
            out.update(
                chunks=int(meta["n"]), pending_vectors=int(meta["pending"]), generation=meta["generation"]
            )
        except (sqlite3.Error, KeyError, ValueError):
            pass
    if root.exists():
        with _maybe_locked(root) as free:
            out["indexing"] = not free and os.access(root, os.W_OK)
    return out


def records_from_vectors(vectors: VectorIndex) -> list[Record]:
    return [
        Record(chunk_id=cid, text=str(meta.get("text", "")), index_text=doc, meta=dict(meta))
        for cid, doc, meta, _ in vectors.iter_all()
    ]


def sync_lexical(root: Path, vectors: VectorIndex, force: bool = False) -> tuple[LexicalIndex, bool]:
    """Load the lexical index, bringing it in line with Chroma first.

    A damaged index (or ``force``) is rebuilt from Chroma; an intact one that differs (a crash
    between the two writes) is repaired by changing only the difference. Chunks an ingest has
    made searchable before their vector is stored ("pending") are kept. While another process
    is ingesting, a reader does not repair; it loads what is there. Returns the index and
    whether it was changed.
    """
    root = Path(root)
    if not force:
        try:
            store = LexicalStore(root, create=False)
        except LexicalIndexCorrupt:
            pass
        else:
            try:
                if store.meta.get("collection") not in ("", vectors.name) and vectors.count() == 0:
                    raise IndexError_(
                        f"Chỉ mục từ vựng thuộc mô hình nhúng khác / the lexical index belongs to "
                        f"another embedding model: {store.meta.get('collection')} (đang dùng / configured: "
                        f"{vectors.name}, chưa có dữ liệu / empty). Dùng lại mô hình cũ hoặc nạp lại / "
                        "use the old model or re-ingest"
                    )
                changed = False
                with _maybe_locked(root) as mine:
                    if mine:
                        try:
                            changed = store.repair(vectors)
                        except (sqlite3.Error, OSError) as e:  # read-only or full: answer from what is there
                            log.warning("lexical index not repaired (%s); using it as it is", e)
            finally:
                store.close()
            try:
                return LexicalIndex.load(root), changed
            except LexicalIndexCorrupt:
                pass
    return LexicalIndex.build(root, records_from_vectors(vectors), vectors.name), True


@contextlib.contextmanager
def _maybe_locked(root: Path) -> Iterator[bool]:
    """The writer lock if free; False when another writer holds it (or it cannot be taken)."""
    lock = index_lock(root, blocking=False)
    try:
        got = lock.__enter__()
    except OSError:  # read-only folder: no lock file, and no repair possible anyway
        yield False
        return
    try:
        yield got
    finally:
        lock.__exit__(None, None, None)
