"""Scale, fault and security tests (issue 5): real servers on 127.0.0.1, real indexes, real faults.

Shared helpers live here (this package has no conftest of its own): free ports, waiting for a
server, a ``chroma run`` subprocess, copying an index, and the index consistency check that the
fault tests apply after every crash.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from assistant.settings import PROJECT_ROOT, Settings

PY = sys.executable
VENV_BIN = Path(sys.executable).parent
CHROMA_BIN = VENV_BIN / "chroma"
CORPUS = PROJECT_ROOT / "corpus"
LOOPBACK = "127.0.0.1"

# Questions whose answers are known from the real corpus (see eval/gold.yaml q001, q040).
NGHE_AN_Q = "Nghệ An đào tạo bao nhiêu thạc sỹ?"
NGHE_AN_SOURCE = "004_a33d8be99f4285d3.txt"
LAO_CAI_Q = "Tỷ lệ cán bộ, công chức cấp xã đạt chuẩn ở Lào Cai là bao nhiêu?"
LAO_CAI_SOURCE = "001_4cad61de56c6e0a2.txt"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((LOOPBACK, port)) == 0


def wait_until(pred: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def child_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: no proxies for loopback, no stray DTBD_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DTBD_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[Any], timeout: float = 20.0) -> int:
    """SIGTERM, then SIGKILL if it does not exit in time; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    return int(proc.returncode)


class ChromaServer:
    """A real ``chroma run`` server on 127.0.0.1 over a persistence path (a subprocess)."""

    def __init__(self, path: Path, log: Path, port: int | None = None) -> None:
        self.path = Path(path)
        self.log = Path(log)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _alive(self) -> bool:
        try:
            r = httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2.0, trust_env=False)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def start(self, timeout: float = 60.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(CHROMA_BIN),
                    "run",
                    "--path",
                    str(self.path),
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env(),
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self._alive():
                return
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"chroma run did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        rc = stop_process(self.proc)
        wait_until(lambda: not port_open(self.port), 10, f"port {self.port} to close")
        return rc

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""

    def __enter__(self) -> ChromaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def copy_index(src: Path, dst: Path) -> Path:
    """Copy a built index folder (Chroma + lexical) so a test can damage or extend it freely."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ingest.lock", ".write-probe-*"))
    return dst


def corpus_with(dst: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A copy of the real corpus (with sidecars) plus extra files, for tests that change it."""
    shutil.copytree(CORPUS, dst)
    for name, content in (files or {}).items():
        p = dst / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return dst


def settings_for(index_dir: Path, corpus_dir: Path = CORPUS, **kw: Any) -> Settings:
    return Settings(
        corpus_dir=corpus_dir,
        index_dir=index_dir,
        cache_dir=PROJECT_ROOT / "var" / "cache",
        feedback_log=Path(index_dir).parent / "feedback.jsonl",
        llm=kw.pop("llm", "none"),
        **kw,
    )


def vector_index(settings: Settings) -> Any:
    from ingest.embeddings import embedder_name, get_embeddings
    from ingest.index import VectorIndex

    return VectorIndex(settings, embedder_name(get_embeddings(settings)))


def index_problems(settings: Settings, check_lexical: bool = True) -> list[str]:
    """Everything that would make the index inconsistent after a crash; [] when it is sound.

    * every chunk id is stored once, and the lexical index holds exactly Chroma's ids;
    * no two chunks cover the same span of the same document;
    * each document's chunks carry one file hash, that hash is the file's current one, and
      their number equals the ``n_chunks`` they all carry;
    * no chunk belongs to a file that is no longer in the corpus folder.
    """
    from ingest.corpus import load_document
    from ingest.index import LexicalIndex, LexicalIndexCorrupt

    problems: list[str] = []
    vectors = vector_index(settings)
    rows = [(cid, meta) for cid, _, meta, _ in vectors.iter_all()]
    ids = [cid for cid, _ in rows]
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate chunk ids: {[i for i, n in Counter(ids).items() if n > 1][:5]}")
    if vectors.count() != len(ids):
        problems.append(f"count() {vectors.count()} != {len(ids)} listed ids")
    if check_lexical:
        try:
            lex = LexicalIndex.load(Path(settings.index_dir))
        except LexicalIndexCorrupt as e:
            problems.append(f"lexical index unreadable: {e}")
        else:
            lex_ids = [r.chunk_id for r in lex.records]
            if sorted(lex_ids) != sorted(set(ids)):
                problems.append(
                    f"lexical ids != chroma ids: {len(set(lex_ids) - set(ids))} only lexical, "
                    f"{len(set(ids) - set(lex_ids))} only chroma"
                )
    spans = Counter((str(m["doc_id"]), int(m["start"]), int(m["end"])) for _, m in rows)
    dup_spans = [s for s, n in spans.items() if n > 1]
    if dup_spans:
        problems.append(f"duplicate chunks (doc_id, start, end): {dup_spans[:5]}")
    by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, m in rows:
        by_doc[str(m["doc_id"])].append(m)
    corpus_dir = Path(settings.corpus_dir)
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    for doc_id, metas in sorted(by_doc.items()):
        shas = {str(m.get("doc_sha256")) for m in metas}
        counts = {int(m.get("n_chunks", -1)) for m in metas}
        sources = {str(m.get("source")) for m in metas}
        if len(shas) != 1:
            problems.append(f"{doc_id}: chunks of {len(shas)} file versions")
        if counts != {len(metas)}:
            problems.append(f"{doc_id}: {len(metas)} chunks stored, n_chunks says {sorted(counts)}")
        if len(sources) != 1:
            problems.append(f"{doc_id}: several sources {sorted(sources)}")
            continue
        path = corpus_dir / sources.pop()
        if not path.exists():
            problems.append(f"{doc_id}: orphan chunks, {path} is not on disk")
            continue
        current = load_document(path, corpus_dir, max_bytes).sha256
        if shas != {current}:
            problems.append(f"{doc_id}: stored chunks are not of the file's current version")
    return problems
