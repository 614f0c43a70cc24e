"""Parse untrusted files in a child process under limits, so one hostile file cannot stall ingest.

A container format can promise little and cost a lot: a 2 MB .docx (a zip) that inflates to
hundreds of MB, a small PDF that declares 99,000 pages, a parser stuck on a crafted structure.
``load_untrusted`` therefore runs ``ingest.loaders.load_file`` in a child process — a fork of a
clean ``forkserver`` that has the parsers imported, so a file costs a fork, not a Python start —
in its own process group, with

* a memory cap (``RLIMIT_DATA``: heap and anonymous mappings, what a parser's blow-up uses),
* a CPU-time cap (``RLIMIT_CPU``) and a wall-clock timeout (the whole process group is killed),
* pre-checks before any parsing: the inflated size that a zip container declares, and the page
  count that a PDF declares,
* a cap on the text it may hand back.

Whatever goes wrong comes back as the usual ``LoadError`` (one bilingual line naming the file),
so the pipeline reports the file as refused and carries on. Plain text (.txt, .md) is decoded in
process: its cost is linear in a size that ``load_file`` checks before reading, and nothing in it
inflates. The child's answer is JSON (raw bytes over a pipe) validated against ``LoadedText``,
never pickle, so even a compromised parser cannot run code in the parent.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from ingest.loaders import LoadedText, LoadError, PageFn, load_file
from ingest.settings import IngestSettings

__all__ = ["IN_PROCESS_SUFFIXES", "SandboxLimits", "load_untrusted"]

# Decoded in process: linear cost in a size checked before reading; nothing inflates.
IN_PROCESS_SUFFIXES = frozenset({".txt", ".md"})
# Text handed back per MB of allowed inflation: more text than the container may hold is refused.
_CHARS_PER_MB = 1024 * 1024
_MAX_ZIP_MEMBERS = 20_000  # an office file has tens to hundreds; millions of entries is a bomb
_RESULT = "R "  # prefixes of the child's messages on the pipe
_ERROR = "E "
_PAGE = "P "


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int = 1536
    cpu_s: int = 120
    wall_s: float = 180.0
    max_pages: int = 5000
    max_inflated_mb: int = 300

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> SandboxLimits:
        return cls(
            memory_mb=settings.sandbox_memory_mb,
            cpu_s=settings.sandbox_cpu_s,
            wall_s=settings.sandbox_wall_s,
            max_pages=settings.sandbox_max_pages,
            max_inflated_mb=settings.sandbox_max_inflated_mb,
        )


_ADAPTER: TypeAdapter[LoadedText] = TypeAdapter(LoadedText)


def load_untrusted(
    path: Path, max_bytes: int, limits: SandboxLimits | None = None, on_page: PageFn | None = None
) -> LoadedText:
    """``load_file`` for a file nobody vouches for: in a child process under ``limits``.

    Raises ``LoadError`` (only) when the file cannot be read or breaks a limit.
    """
    path = Path(path)
    if path.suffix.lower() in IN_PROCESS_SUFFIXES:
        return load_file(path, max_bytes, on_page) if on_page else load_file(path, max_bytes)
    limits = limits or SandboxLimits.from_settings(IngestSettings())
    ctx = _context()
    parent_end, child_end = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child,
        args=(str(path), max_bytes, limits, on_page is not None, child_end),
        name="dtbd-parse",
        daemon=True,
    )
    try:
        proc.start()
    except OSError as e:
        raise LoadError(
            path, "không khởi động được tiến trình đọc tệp", f"cannot start the parser: {e}"
        ) from e
    child_end.close()
    answer = b""
    deadline = time.monotonic() + limits.wall_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LoadError(
                    path,
                    f"đọc tệp quá {limits.wall_s:g} giây, tệp bị từ chối",
                    f"parsing took longer than {limits.wall_s:g} s; file refused",
                )
            if not parent_end.poll(min(left, 1.0)):
                if not proc.is_alive() and not parent_end.poll(0):
                    break
                continue
            try:
                msg = parent_end.recv_bytes()  # bytes only: nothing from the child is unpickled
            except (EOFError, OSError):
                break
            if msg.startswith(_PAGE.encode()):
                if on_page is not None:
                    with contextlib.suppress(ValueError):
                        done, total = (int(x) for x in msg[len(_PAGE) :].split())
                        on_page(done, total)
                continue
            answer = msg
            break
    finally:
        parent_end.close()
        if proc.is_alive():
            _kill_tree(proc.pid)
        proc.join(timeout=10)
    return _decode_answer(path, proc.exitcode, answer.decode("utf-8", "replace"), limits)


_CTX: Any = None
_CTX_LOCK = threading.Lock()


def _context() -> Any:
    """A forkserver: started once (a clean process, the parsers imported), then each file is a
    cheap fork of it, never of this (threaded) server process."""
    global _CTX
    with _CTX_LOCK:
        if _CTX is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["ingest.sandbox", "docx", "pypdf", "bs4"])
            _CTX = ctx
        return _CTX


def _kill_tree(pid: int | None) -> None:
    """The child leads its own process group (set in ``_child``): kill it with its helpers."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _decode_answer(path: Path, exitcode: int | None, line: str, limits: SandboxLimits) -> LoadedText:
    if line.startswith(_RESULT):
        try:
            return _ADAPTER.validate_json(line[len(_RESULT) :])
        except ValueError as e:
            raise LoadError(path, "kết quả đọc tệp không hợp lệ", f"invalid parser result: {e}") from e
    if line.startswith(_ERROR):
        try:
            vi, en = json.loads(line[len(_ERROR) :])
        except ValueError:
            vi, en = "lỗi khi đọc tệp", "parser failed"
        raise LoadError(path, str(vi), str(en))
    if exitcode is not None and exitcode < 0:
        sig = -exitcode
        if sig == signal.SIGXCPU:
            raise LoadError(
                path,
                f"đọc tệp vượt {limits.cpu_s} giây CPU, tệp bị từ chối",
                f"parsing used more than {limits.cpu_s} s of CPU; file refused",
            )
        raise LoadError(
            path,
            f"tiến trình đọc tệp bị dừng (tín hiệu {signal.Signals(sig).name}; vượt giới hạn bộ nhớ?)",
            f"parser killed by {signal.Signals(sig).name} (memory limit {limits.memory_mb} MB?); file refused",
        )
    raise LoadError(
        path,
        f"tiến trình đọc tệp thất bại (mã {exitcode}; vượt giới hạn bộ nhớ {limits.memory_mb} MB?)",
        f"parser exited with {exitcode} (over the {limits.memory_mb} MB memory limit?); file refused",
    )


# -- the child -------------------------------------------------------------------------------------
def _apply_limits(limits: SandboxLimits) -> None:
    import resource

    def soft(res: int, value: int) -> None:
        _, hard = resource.getrlimit(res)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(res, (value, hard))

    soft(resource.RLIMIT_DATA, limits.memory_mb * 1024 * 1024)
    soft(resource.RLIMIT_CPU, int(limits.cpu_s))
    soft(resource.RLIMIT_CORE, 0)
    soft(resource.RLIMIT_FSIZE, max(limits.max_inflated_mb, 64) * 1024 * 1024)  # converters' temp files


def _precheck(path: Path, limits: SandboxLimits) -> None:
    """Refuse what a container declares before any parser touches it."""
    max_inflated = limits.max_inflated_mb * 1024 * 1024
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
            return  # the loader reports a broken container in its own words
        if len(infos) > _MAX_ZIP_MEMBERS:
            raise LoadError(
                path,
                f"tệp nén chứa quá nhiều thành phần ({len(infos)})",
                f"archive holds too many members ({len(infos)} > {_MAX_ZIP_MEMBERS})",
            )
        inflated = sum(i.file_size for i in infos)
        if inflated > max_inflated:
            raise LoadError(
                path,
                f"tệp giải nén ra {inflated / 2**20:.0f} MB, quá giới hạn {limits.max_inflated_mb} MB "
                "(bom giải nén?)",
                f"inflates to {inflated / 2**20:.0f} MB, over the {limits.max_inflated_mb} MB limit "
                "(decompression bomb?)",
            )
    if path.suffix.lower() == ".pdf":
        pages = _declared_pages(path)
        if pages is not None and pages > limits.max_pages:
            raise LoadError(
                path,
                f"PDF khai báo {pages} trang, quá giới hạn {limits.max_pages} trang",
                f"PDF declares {pages} pages, over the {limits.max_pages}-page limit",
            )


def _declared_pages(path: Path) -> int | None:
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path), strict=False)
        root: Any = reader.trailer["/Root"]
        return int(root["/Pages"]["/Count"])
    except Exception:  # unreadable here: the loader says why in its own words
        return None


def _child(path_str: str, max_bytes: int, limits: SandboxLimits, progress: bool, conn: Any) -> None:
    """Runs in the forked child: own process group, limits, pre-checks, then the loader."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _apply_limits(limits)
    path = Path(path_str)

    def send(line: str) -> None:
        conn.send_bytes(line.encode("utf-8"))

    def on_page(done: int, total: int) -> None:
        send(f"{_PAGE}{done} {total}")

    memory_note = (
        f"đọc tệp cần hơn {limits.memory_mb} MB bộ nhớ, tệp bị từ chối",
        f"parsing needs more than {limits.memory_mb} MB of memory; file refused",
    )
    try:
        _precheck(path, limits)
        loaded = load_file(path, max_bytes, on_page) if progress else load_file(path, max_bytes)
        if len(loaded.text) > limits.max_inflated_mb * _CHARS_PER_MB:
            raise LoadError(
                path,
                f"văn bản trích ra quá dài ({len(loaded.text)} ký tự)",
                f"extracted text too long ({len(loaded.text)} characters)",
            )
        send(_RESULT + _ADAPTER.dump_json(loaded).decode("utf-8"))
    except LoadError as e:
        vi, en = e.reason_vi, e.reason_en
        if "MemoryError" in en or _near_memory_limit(limits):  # parsers word exhaustion oddly
            vi, en = f"{vi}; {memory_note[0]}", f"{en}; {memory_note[1]}"
        send(_ERROR + json.dumps([vi, en], ensure_ascii=False))
    except MemoryError:
        send(_ERROR + json.dumps(list(memory_note), ensure_ascii=False))
    finally:
        conn.close()


def _near_memory_limit(limits: SandboxLimits) -> bool:
    import resource

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak_kb * 1024 > 0.7 * limits.memory_mb * 1024 * 1024
