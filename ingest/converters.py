"""Run an external converter (LibreOffice, Ghostscript, Tesseract) on an untrusted file, under limits.

Owns the one way ingest starts a converter process: its own process group and session, a
wall-clock timeout after which the whole group is killed, an address-space and CPU-time limit
set in the child before it starts (``resource.setrlimit``), a cap on the files it may write,
and stdin closed. Every failure becomes a :class:`~ingest.load_errors.LoadError` naming the
file, in Vietnamese and English. These limits hold whether or not the loader itself runs in
a sandboxed child process.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.load_errors import LoadError, describe

__all__ = ["ConverterLimits", "run_converter", "require_tool"]

MB = 1024 * 1024


@dataclass(frozen=True)
class ConverterLimits:
    """Limits for one converter run."""

    # Wall-clock seconds before the process group is killed; a 20-page document converts in
    # ~2 s (LibreOffice) and a page OCRs in ~2-6 s on one busy core, so a minute is generous.
    timeout_s: float = 60.0
    # Address space (virtual memory) of the child. LibreOffice converts under 512 MB; Tesseract
    # at 300 dpi needs ~200 MB; 1.5 GB stops a bomb without failing real files.
    memory_bytes: int = 1536 * MB
    # The largest file the child may write (a rendered page at 300 dpi is ~25 MB in PNG).
    max_output_bytes: int = 256 * MB


def _limit_child(limits: ConverterLimits) -> Callable[[], None]:
    cpu = int(limits.timeout_s) + 5
    wanted = (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, limits.max_output_bytes),
        (resource.RLIMIT_CORE, 0),
    )

    def apply() -> None:  # runs in the child between fork and exec
        for kind, value in wanted:
            _, hard = resource.getrlimit(kind)
            if (
                hard != resource.RLIM_INFINITY
            ):  # already limited (e.g. inside ingest's sandbox): never raise it
                value = min(value, hard)
            resource.setrlimit(kind, (value, value))

    return apply


def require_tool(path: Path, tool: str, package: str) -> str:
    """The full path of ``tool``, or a LoadError telling the operator which Debian package to install."""
    found = shutil.which(tool)
    if found is None:
        raise LoadError(
            path,
            f"thiếu chương trình {tool} (cài gói Debian {package}: make sysdeps)",
            f"{tool} not installed (Debian package {package}; run make sysdeps)",
        )
    return found


def run_converter(
    path: Path,
    argv: Sequence[str],
    what_vi: str,
    what_en: str,
    limits: ConverterLimits | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` for the file ``path`` under ``limits``; a non-zero exit, a timeout or a
    resource kill raises LoadError ("what_vi"/"what_en" name the step, e.g. "chuyển .doc")."""
    limits = limits or ConverterLimits()
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd) if cwd else os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OMP_THREAD_LIMIT": "1",  # Tesseract: one thread per page; parallelism is the caller's choice
    }
    child_env.update(env or {})
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=child_env,
            start_new_session=True,  # its own process group: a timeout kills helpers it spawned too
            preexec_fn=_limit_child(limits),  # noqa: PLW1509 - no threads are touched in the child
        )
    except OSError as exc:
        raise LoadError(
            path, f"không chạy được trình {what_vi}", f"cannot start the {what_en} converter: {describe(exc)}"
        ) from exc
    try:
        out, err = proc.communicate(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise LoadError(
            path,
            f"{what_vi} quá thời gian cho phép ({limits.timeout_s:g} giây)",
            f"{what_en} timed out after {limits.timeout_s:g} s",
        ) from exc
    finally:
        if proc.poll() is None:
            _kill_group(proc)
    if proc.returncode != 0:
        tail = " ".join(err.decode("utf-8", "replace").split())[-300:]
        if proc.returncode < 0:
            sig = signal.Signals(-proc.returncode).name
            detail = f"killed by {sig} (memory/CPU limit?)"
        else:
            detail = f"exit {proc.returncode}"
        raise LoadError(
            path,
            f"{what_vi} thất bại (tệp hỏng hoặc vượt giới hạn tài nguyên)",
            f"{what_en} failed: {detail}{': ' + tail if tail else ''}",
        )
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
