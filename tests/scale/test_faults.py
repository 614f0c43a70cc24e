"""Faults: ``kill -9`` mid-ingest, read-only and full index folders, a corrupted lexical index.

Everything is real: a writer subprocess killed with SIGKILL, a reader subprocess asking
questions the whole time, the kernel refusing writes (a read-only bind mount or a full tmpfs
in a private mount namespace, or plain permissions when not root), files garbled on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from tests.scale import (
    CORPUS,
    NGHE_AN_Q,
    NGHE_AN_SOURCE,
    PY,
    child_env,
    copy_index,
    corpus_with,
    index_problems,
    settings_for,
    vector_index,
)

pytestmark = pytest.mark.timeout(600)

# --- generated batch ---------------------------------------------------------------------------


def corpus_sentences() -> list[str]:
    """Figure-free sentences of the real corpus (so no generated file competes for a figure)."""
    out: list[str] = []
    for p in sorted(CORPUS.glob("*.txt")):
        for para in p.read_text(encoding="utf-8").split("\n"):
            for s in re.split(r"(?<=[.;])\s+", para.strip()):
                if 60 <= len(s) <= 220 and not re.search(r"\d", s) and s not in out:
                    out.append(s)
    return out


def make_batch(dst: Path, n: int = 40, seed: int = 5) -> list[Path]:
    """``n`` small Vietnamese text files (1–2 chunks each) made from real corpus sentences."""
    rng = random.Random(seed)
    sentences = corpus_sentences()
    dst.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        k = rng.choice([2, 2, 3, 3, 7])  # mostly one chunk; the 7-sentence ones make two
        body = " ".join(rng.sample(sentences, k))
        p = dst / f"tong_hop_{i:02d}.txt"
        p.write_text(
            f"Tài liệu tổng hợp số {i:02d} về đào tạo, bồi dưỡng cán bộ\n\n{body}\n", encoding="utf-8"
        )
        files.append(p)
    return files


# --- writer and reader subprocesses ------------------------------------------------------------

WRITER = r"""
import sys
from assistant.settings import Settings
from ingest.pipeline import run_ingest

def tick(i, n, name):
    print(f"PROGRESS {i} {n} {name}", flush=True)

r = run_ingest(Settings(), progress=tick)
print("REPORT " + r.summary(), flush=True)
sys.exit(1 if r.errors else 0)
"""

READER = r"""
import json, sys, time, traceback
from pathlib import Path
from assistant.settings import Settings
from assistant.service import Assistant

question, stop_file, max_s = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + max_s
bot = Assistant.from_settings(Settings())
last_reload = time.monotonic()
while time.monotonic() < deadline and not stop_file.exists():
    rec = {"t": time.time()}
    try:
        if time.monotonic() - last_reload > 8:
            bot.reload()
            last_reload = time.monotonic()
        ans = bot.ask(question)
        rec.update(ok="935" in ans.answer and not ans.refused, source=ans.citations[0].source if ans.citations else "",
                   passages=len(bot.passages))
    except Exception as e:
        rec.update(ok=False, error=repr(e), tb=traceback.format_exc()[-600:])
    print(json.dumps(rec, ensure_ascii=False), flush=True)
    time.sleep(1.5)
print(json.dumps({"done": True}), flush=True)
"""


def _env(settings: Settings) -> dict[str, str]:
    return child_env(
        DTBD_INDEX_DIR=str(settings.index_dir),
        DTBD_CORPUS_DIR=str(settings.corpus_dir),
        DTBD_LLM="none",
        DTBD_CACHE_DIR=str(settings.cache_dir),
        # several write batches per run, so that a kill lands between them, as in a large library
        DTBD_INGEST_BATCH="4",
    )


@dataclass
class Proc:
    proc: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # EOF

    def next_line(self, timeout: float) -> str | None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        self.seen.append(line)
        return line

    def drain(self, timeout: float = 30.0) -> list[str]:
        self.proc.wait(timeout=timeout)
        while True:
            line = self.next_line(timeout=5)
            if not line:
                return self.seen


def spawn(script: str, settings: Settings, cwd: Path, *args: str) -> Proc:
    proc = subprocess.Popen(
        [PY, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=_env(settings),
        cwd=cwd,
        start_new_session=True,
    )
    p = Proc(proc)
    threading.Thread(target=p.pump, daemon=True).start()
    return p


def kill_when(writer: Proc, pred: object, delay: float, timeout: float = 240.0) -> str:
    """SIGKILL the writer ``delay`` s after its progress line satisfies ``pred``; returns that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = writer.next_line(timeout=1.0)
        if line is None:
            continue
        if line == "" or line.startswith("REPORT"):
            raise AssertionError("the writer finished before it could be killed:\n" + "\n".join(writer.seen))
        if line.startswith("PROGRESS") and pred(line):  # type: ignore[operator]
            time.sleep(delay)
            os.kill(writer.proc.pid, signal.SIGKILL)
            assert writer.proc.wait(timeout=30) == -signal.SIGKILL
            return line
    writer.proc.kill()
    raise AssertionError("no matching progress line in time:\n" + "\n".join(writer.seen[-20:]))


def run_writer(settings: Settings, cwd: Path, timeout: float = 300.0) -> list[str]:
    w = spawn(WRITER, settings, cwd)
    try:
        lines = w.drain(timeout=timeout)
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
    assert w.proc.returncode == 0, "\n".join(lines[-30:])
    return lines


@pytest.fixture()
def reader_factory(tmp_path: Path) -> Iterator[object]:
    started: list[tuple[Proc, Path]] = []

    def start(settings: Settings, max_s: float = 400.0) -> tuple[Proc, Path]:
        stop = tmp_path / f"stop-reader-{len(started)}"
        r = spawn(READER, settings, tmp_path, NGHE_AN_Q, str(stop), str(max_s))
        started.append((r, stop))
        return r, stop

    yield start
    for r, stop in started:
        stop.touch()
        try:
            r.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            r.proc.kill()


def reader_results(reader: Proc, stop: Path) -> list[dict[str, Any]]:
    stop.touch()
    lines = reader.drain(timeout=60)
    recs = [json.loads(line) for line in lines if line.startswith("{")]
    assert recs and recs[-1].get("done"), "reader did not finish cleanly:\n" + "\n".join(lines[-20:])
    return recs[:-1]


def wait_reader_ready(reader: Proc, timeout: float = 120.0) -> None:
    """Block until the reader has answered once (its model and index are loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = reader.next_line(timeout=1.0)
        if line and line.startswith("{"):
            rec = json.loads(line)
            assert rec.get("ok"), rec
            return
        if line == "":
            raise AssertionError("reader exited:\n" + "\n".join(reader.seen))
    raise AssertionError("reader never answered:\n" + "\n".join(reader.seen))


def reader_answers_after(reader: Proc, since: float, timeout: float = 180.0) -> dict[str, Any]:
    """Block until the reader answers with a record stamped after ``since`` (wall clock); return it.

    A checkpoint rather than a count: the reader must answer after each crash and each re-run,
    however slow the machine is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = reader.next_line(timeout=1.0)
        if line == "":
            raise AssertionError("reader exited:\n" + "\n".join(reader.seen[-20:]))
        if line and line.startswith("{"):
            rec: dict[str, Any] = json.loads(line)
            assert rec.get("ok"), rec
            if rec["t"] >= since:
                return rec
    raise AssertionError(f"reader gave no answer within {timeout:.0f}s:\n" + "\n".join(reader.seen[-20:]))


# --- (a) kill -9 during ingest -------------------------------------------------------------------


def _progress_index(line: str) -> tuple[int, str]:
    _, i, _n, *name = line.split(" ")
    return int(i), " ".join(name)


def test_kill_9_during_ingest_then_rerun_converges(
    tmp_path: Path, corpus_settings: Settings, reader_factory: object
) -> None:
    from assistant.service import Assistant
    from ingest.pipeline import run_ingest

    corpus = corpus_with(tmp_path / "corpus")
    batch = make_batch(corpus / "batch", n=36)
    settings = settings_for(copy_index(Path(corpus_settings.index_dir), tmp_path / "index"), corpus)
    base_count = vector_index(settings).count()

    reader, stop = reader_factory(settings)  # type: ignore[operator]
    wait_reader_ready(reader)

    # Phase 1: 36 new files; killed once a dozen of them are in.
    writer = spawn(WRITER, settings, tmp_path)
    t0 = time.monotonic()
    kill_when(writer, lambda ln: _progress_index(ln)[0] >= 5 + 12, delay=0.7)
    after_kill = vector_index(settings).count()
    print(f"phase 1: killed after {time.monotonic() - t0:.1f}s with {after_kill - base_count} new chunks in")
    assert base_count < after_kill, "nothing was written before the kill; kill later"
    # Queries work on what is there, right after the crash (and the lexical index is readable).
    bot = Assistant.from_settings(settings)
    ans = bot.ask(NGHE_AN_Q)
    assert "935" in ans.answer and ans.citations[0].source == NGHE_AN_SOURCE
    checkpoints = {"after kill 1": reader_answers_after(reader, time.time())}

    t0 = time.monotonic()
    lines = run_writer(settings, tmp_path)
    checkpoints["after re-run 1"] = reader_answers_after(reader, time.time())
    print(
        f"phase 1 re-run ({time.monotonic() - t0:.1f}s):", next(ln for ln in lines if ln.startswith("REPORT"))
    )
    assert index_problems(settings) == []
    full_count = vector_index(settings).count()
    assert full_count > after_kill

    # Phase 2: a third of the files change, three are deleted; killed mid-update.
    changed = batch[::3]
    for p in changed:
        p.write_text(
            p.read_text(encoding="utf-8") + "\nBổ sung: nội dung cập nhật sau khi rà soát.\n", "utf-8"
        )
    deleted = [batch[1], batch[2], batch[4]]
    for p in deleted:
        p.unlink()
    names = {p.name for p in changed}
    seen_changed: list[str] = []

    def fourth_changed(line: str) -> bool:
        name = _progress_index(line)[1]
        if name in names and name not in seen_changed:
            seen_changed.append(name)
        return len(seen_changed) >= 4

    writer = spawn(WRITER, settings, tmp_path)
    t0 = time.monotonic()
    kill_when(writer, fourth_changed, delay=0.4)
    print(f"phase 2: killed after {time.monotonic() - t0:.1f}s; chunks {vector_index(settings).count()}")
    ans = Assistant.from_settings(settings).ask(NGHE_AN_Q)
    assert "935" in ans.answer and ans.citations[0].source == NGHE_AN_SOURCE
    checkpoints["after kill 2"] = reader_answers_after(reader, time.time())

    lines = run_writer(settings, tmp_path)
    report = next(ln for ln in lines if ln.startswith("REPORT"))
    print("phase 2 re-run:", report)
    assert "-3 xóa/removed" in report, report
    assert index_problems(settings) == []

    # A third run writes nothing.
    third = run_ingest(settings)
    assert not third.errors
    assert (third.docs_added, third.docs_updated, third.docs_removed, third.chunks_added) == (0, 0, 0, 0)
    assert not third.lexical_rebuilt
    assert third.docs_skipped == 5 + len(batch) - len(deleted)
    checkpoints["after re-run 2"] = reader_answers_after(reader, time.time())

    # The reader, a separate process, answered throughout: before, during, between and after.
    recs = reader_results(reader, stop)
    print(f"reader: {len(recs)} answers, passages seen {sorted({r.get('passages', 0) for r in recs})}")
    errors = [r for r in recs if not r.get("ok")]
    assert not errors, errors[:3]
    assert set(checkpoints) == {"after kill 1", "after re-run 1", "after kill 2", "after re-run 2"}
    assert all(c["ok"] for c in checkpoints.values()), checkpoints
    assert {r["source"] for r in recs} == {NGHE_AN_SOURCE}


# --- (c) corrupted lexical index -----------------------------------------------------------------


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(0, len(data), max(1, len(data) // 50)):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        "truncate-db",
        "garble-db",
        "edit-record",
        "edit-posting-list",
        "edit-counter",
        "delete-db",
        "delete-manifest",
        "garble-manifest",
        "delete-lexical-dir",
    ],
)
def test_corrupted_lexical_index_is_detected_and_rebuilt(
    tmp_path: Path, corpus_settings: Settings, damage: str
) -> None:
    import sqlite3

    from ingest.index import LexicalIndex, LexicalIndexCorrupt, sync_lexical

    settings = settings_for(copy_index(Path(corpus_settings.index_dir), tmp_path / "index"))
    lex = Path(settings.index_dir) / "lexical"
    good_ids = sorted(r.chunk_id for r in LexicalIndex.load(Path(settings.index_dir)).records)
    db_path = lex / "lexical.sqlite3"
    if damage == "truncate-db":
        with db_path.open("r+b") as f:
            f.truncate(db_path.stat().st_size // 2)
    elif damage == "garble-db":
        _garble(db_path)
    elif damage in ("edit-record", "edit-posting-list", "edit-counter"):
        # damage that SQLite itself cannot see: a valid database with wrong content
        db = sqlite3.connect(db_path)
        if damage == "edit-record":
            db.execute("UPDATE chunks SET text = text || ' 9999' WHERE row = (SELECT min(row) FROM chunks)")
        elif damage == "edit-posting-list":
            db.execute("UPDATE postings SET tfs = zeroblob(length(tfs)) WHERE term = 'cán'")
        else:
            db.execute("UPDATE meta SET value = value + 1 WHERE key = 'n'")
        db.commit()
        db.close()
    elif damage == "delete-db":
        db_path.unlink()
    elif damage == "delete-manifest":
        (lex / "manifest.json").unlink()
    elif damage == "garble-manifest":
        (lex / "manifest.json").write_text('{"files": {', encoding="utf-8")
    elif damage == "delete-lexical-dir":
        shutil.rmtree(lex)

    with pytest.raises(LexicalIndexCorrupt):
        LexicalIndex.load(Path(settings.index_dir))
    _, rebuilt = sync_lexical(Path(settings.index_dir), vector_index(settings))
    assert rebuilt
    assert sorted(r.chunk_id for r in LexicalIndex.load(Path(settings.index_dir)).records) == good_ids
    assert index_problems(settings) == []


def test_corrupted_lexical_index_rebuilt_on_assistant_start(
    tmp_path: Path, corpus_settings: Settings
) -> None:
    """The serving path (``Assistant.from_settings``) heals a damaged index and answers right."""
    from assistant.service import Assistant

    settings = settings_for(copy_index(Path(corpus_settings.index_dir), tmp_path / "index"))
    import sqlite3

    db_path = Path(settings.index_dir) / "lexical" / "lexical.sqlite3"
    # Damage that keeps the database valid: a record's text changed (only the checksum tells).
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE chunks SET text = replace(text, 'cán bộ', 'cán bộ 9999')")
    ans = Assistant.from_settings(settings).ask(NGHE_AN_Q)
    assert "935" in ans.answer and "9999" not in ans.answer
    assert ans.citations[0].source == NGHE_AN_SOURCE
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM chunks WHERE text LIKE '%9999%'").fetchone() == (0,)
    assert index_problems(settings) == []


# --- (b) read-only / full index folder -----------------------------------------------------------

IS_ROOT = os.geteuid() == 0

# One helper script, run as separate processes inside the namespace (a fresh Chroma client each
# step, as a CLI run or a restarted server would have). Prints one JSON object per call.
STEP = r"""
import hashlib, json, os, sys
from pathlib import Path

index = Path(os.environ["DTBD_INDEX_DIR"])
FILLER = index / ".filler"

def digest():
    return {p.relative_to(index).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(index.rglob("*")) if p.is_file() and p.name not in (".ingest.lock", ".filler")}

def fill(kb):
    st = os.statvfs(index)
    want = st.f_bavail * st.f_frsize - kb * 1024
    block = b"\0" * (1 << 20)
    with FILLER.open("wb") as f:
        while want > 0:
            f.write(block[: min(len(block), want)])
            want -= len(block)
    st = os.statvfs(index)
    return st.f_bavail * st.f_frsize // 1024

def main(cmd, *args):
    out = {"cmd": cmd}
    if cmd == "fill":
        out["digest"] = digest()
        out["free_kb"] = fill(int(args[0]))
    elif cmd == "unfill":
        FILLER.unlink()
    elif cmd in ("ingest", "recover"):
        from assistant.settings import Settings
        from ingest.index import IndexError_
        from ingest.pipeline import run_ingest
        try:
            r = run_ingest(Settings(), [Path(args[0])], prune=False)
            out.update(ok=True, summary=r.summary(), errors=r.errors)
        except IndexError_ as e:
            out.update(ok=False, error=str(e))
        out["digest"] = digest()
    if cmd in ("serve", "recover"):
        from assistant.settings import Settings
        from assistant.service import Assistant
        try:
            ans = Assistant.from_settings(Settings()).ask(args[-1])
            out["serve"] = dict(ok=True, answer=ans.answer, source=ans.citations[0].source if ans.citations else "")
        except Exception as e:
            out["serve"] = dict(ok=False, error=str(e), error_type=type(e).__name__)
    if cmd in ("problems", "recover"):
        from assistant.settings import Settings
        from tests.scale import index_problems
        out["problems"] = index_problems(Settings())
    print(json.dumps(out, ensure_ascii=False), flush=True)

main(*sys.argv[1:])
"""


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".ingest.lock"
    }


def _namespace_prefix(scratch: Path) -> list[str] | None:
    """``unshare`` into a private mount namespace (as root, or as a mapped user if allowed).

    Mounts made inside vanish with the namespace, so nothing leaks even if a test dies.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = [unshare, "-m"] if IS_ROOT else [unshare, "-Urm"]
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        probe = subprocess.run(
            [*prefix, "sh", "-c", f'mount -t tmpfs -o size=1m none "{scratch}"'],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if probe.returncode == 0 else None


@dataclass
class Fs:
    """An index folder (its own corpus copy beside it) and a way to run steps against it."""

    settings: Settings
    new_doc: Path
    step: Path
    tmp: Path

    @property
    def index_dir(self) -> Path:
        return Path(self.settings.index_dir)

    def run(self, setup: str, *steps: list[str], prefix: list[str] | None = None) -> list[dict[str, object]]:
        """``setup`` (shell, e.g. mounts) then each step as its own process; their JSON results."""
        cmds = " && ".join(f'"{PY}" "{self.step}" ' + " ".join(f'"{a}"' for a in st) for st in steps)
        shell = f"{setup} && {cmds}" if setup else cmds
        proc = subprocess.run(
            [*(prefix or []), "sh", "-c", shell],
            capture_output=True,
            text=True,
            env=_env(self.settings),
            cwd=self.tmp,
            timeout=400,
        )
        out = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
        assert proc.returncode == 0 and len(out) == len(steps), (
            f"rc={proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        return out


@pytest.fixture()
def fs(tmp_path: Path, corpus_settings: Settings) -> Fs:
    corpus = corpus_with(tmp_path / "corpus")
    new = corpus / "moi" / "ke hoạch mới.txt"
    new.parent.mkdir()
    new.write_text(
        "Kế hoạch bồi dưỡng cán bộ năm 2025\n\n" + " ".join(corpus_sentences()[:3]) + "\n", "utf-8"
    )
    settings = settings_for(copy_index(Path(corpus_settings.index_dir), tmp_path / "index"), corpus)
    step = tmp_path / "step.py"
    step.write_text(STEP, encoding="utf-8")
    return Fs(settings, new, step, tmp_path)


def _clear(msg: str, index_dir: Path, words: tuple[str, ...]) -> bool:
    return str(index_dir) in msg and any(w in msg for w in words)


def _assert_answers(serve: dict[str, object]) -> None:
    assert serve["ok"], serve
    assert "935" in str(serve["answer"]) and serve["source"] == NGHE_AN_SOURCE, serve


def _assert_answers_or_says_why(serve: dict[str, object], index_dir: Path, words: tuple[str, ...]) -> None:
    """Either the question is answered, or the assistant cannot start and says why in words
    (an ``IndexError_`` naming the folder), never a raw Chroma/OS exception."""
    if serve["ok"]:
        _assert_answers(serve)
    else:
        assert serve["error_type"] == "IndexError_", serve
        assert _clear(str(serve["error"]), index_dir, words), serve


READ_ONLY_WORDS = ("chỉ đọc", "read-only")
FULL_WORDS = ("đầy", "full", "No space left")


def _read_only_setup(fs: Fs) -> tuple[list[str] | None, str]:
    prefix = _namespace_prefix(fs.tmp / "probe")
    if prefix is not None:  # a read-only bind mount of the index folder, only inside the namespace
        d = fs.index_dir
        return prefix, f'mount --bind "{d}" "{d}" && mount -o remount,bind,ro "{d}"'
    if not IS_ROOT:
        return None, f'chmod 0555 "{fs.index_dir}"'
    pytest.skip("root without mount namespaces: no way to make a folder read-only to root")


def test_read_only_index_dir_ingest_is_a_clear_error(fs: Fs) -> None:
    before = _tree_digest(fs.index_dir)
    prefix, setup = _read_only_setup(fs)
    try:
        (res,) = fs.run(setup, ["ingest", str(fs.new_doc)], prefix=prefix)
    finally:
        os.chmod(fs.index_dir, 0o755)
    assert res["ok"] is False, res
    assert _clear(str(res["error"]), fs.index_dir, READ_ONLY_WORDS), res["error"]
    # Nothing was written; the index answers as before and is consistent.
    assert _tree_digest(fs.index_dir) == before
    (res,) = fs.run("", ["serve", NGHE_AN_Q])
    _assert_answers(res["serve"])  # type: ignore[arg-type]
    assert index_problems(fs.settings) == []


def test_read_only_index_dir_serving_answers_or_says_why(fs: Fs) -> None:
    """A read-only index folder (e.g. a snapshot mounted read-only) either serves questions or
    fails with an error naming the folder and saying it is read-only, not a raw Chroma error."""
    prefix, setup = _read_only_setup(fs)
    try:
        (res,) = fs.run(setup, ["serve", NGHE_AN_Q], prefix=prefix)
    finally:
        os.chmod(fs.index_dir, 0o755)
    _assert_answers_or_says_why(res["serve"], fs.index_dir, READ_ONLY_WORDS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "free_kb", [0, 16, 400], ids=["no-room", "room-for-probe-only", "room-for-chroma-only"]
)
def test_full_disk_is_a_clear_error_and_recovers(fs: Fs, free_kb: int) -> None:
    """A full filesystem under the index folder (a small tmpfs in a private mount namespace,
    the index copied in, the rest filled). Ingest fails in words naming the folder, the index
    keeps answering while the disk is full, and once space is freed a re-run converges.

    ``free_kb`` leaves room for: nothing (the write probe fails), the probe but not Chroma's
    writes, Chroma's writes but not the lexical index.
    """
    prefix = _namespace_prefix(fs.tmp / "probe")
    if prefix is None:
        pytest.skip("no mount namespace available to make a small full filesystem")
    stash = fs.tmp / "stash"
    shutil.copytree(fs.index_dir, stash)
    d = fs.index_dir
    setup = f'mount -t tmpfs -o size=16m none "{d}" && cp -a "{stash}/." "{d}/"'
    filled, ingest, during, _, after = fs.run(
        setup,
        ["fill", str(free_kb)],
        ["ingest", str(fs.new_doc)],
        ["serve", NGHE_AN_Q],
        ["unfill"],
        ["recover", str(fs.new_doc), NGHE_AN_Q],
        prefix=prefix,
    )
    assert int(filled["free_kb"]) <= free_kb + 8, filled["free_kb"]  # type: ignore[call-overload]
    if ingest["ok"]:  # it all fitted after all: then it must be a clean success
        assert free_kb > 0 and not ingest["errors"], ingest
    if free_kb == 0:
        assert ingest["ok"] is False and ingest["digest"] == filled["digest"]  # nothing touched
    # 1. With space again, the same ingest succeeds, the index is consistent and answers.
    assert after["ok"] and not after["errors"], after
    assert after["problems"] == []
    _assert_answers(after["serve"])  # type: ignore[arg-type]
    # 2. The failed ingest said why, naming the folder.
    if not ingest["ok"]:
        assert _clear(str(ingest["error"]), d, FULL_WORDS), ingest["error"]
    # 3. While the disk is full, a freshly started assistant answers or says why.
    _assert_answers_or_says_why(during["serve"], d, FULL_WORDS)  # type: ignore[arg-type]


def test_index_dir_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    """Works as root and without namespaces: the index path's parent is a regular file."""
    from ingest.index import IndexError_
    from ingest.pipeline import run_ingest

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    doc = tmp_path / "a.txt"
    doc.write_text(
        "Kế hoạch bồi dưỡng cán bộ năm 2025\n\n" + " ".join(corpus_sentences()[:3]) + "\n", "utf-8"
    )
    settings = settings_for(blocker / "index")
    with pytest.raises(IndexError_) as ei:
        run_ingest(settings, [doc], prune=False)
    assert str(blocker / "index") in str(ei.value) and "cannot create index dir" in str(ei.value)
