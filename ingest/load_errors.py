"""The one error type every loader raises, and the small formatting helpers its messages share.

Kept apart from ``ingest.loaders`` so format modules (OCR, spreadsheets, .doc) can raise it
without importing the suffix table that imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["LoadError", "describe", "fmt_mb"]


class LoadError(Exception):
    """A file could not be turned into text; carries the path and a bilingual reason.

    ``str(e) == f"{path}: {reason_vi} ({reason_en})"`` so one log line tells the
    operator which file failed and why, in both languages.
    """

    def __init__(self, path: Path, reason_vi: str, reason_en: str) -> None:
        self.path = path
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        super().__init__(f"{path}: {reason_vi} ({reason_en})")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the three-argument constructor working across pickling (multiprocessing).
        return (type(self), (self.path, self.reason_vi, self.reason_en))


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, for the English half of a reason."""
    msg = str(exc).strip()
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def fmt_mb(n: int) -> str:
    """Megabytes (MiB) with at most two decimals; bytes when that would print as 0."""
    mb = n / (1024 * 1024)
    if mb < 0.01:
        return f"{n} B"
    return f"{mb:.2f}".rstrip("0").rstrip(".") + " MB"
