"""Counters of silent fallbacks, shown on ``GET /health`` so nothing degrades unnoticed.

Code that quietly falls back (dense retrieval failed → BM25 alone, an index reloaded after an
outside ingest, an LLM answer replaced by the extractive one) calls ``count(EVENT)``; the
counts are per process, since the server started.
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["DENSE_FAILED", "INDEX_RELOADED", "count", "counters", "reset"]

DENSE_FAILED = "dense_retrieval_failed"  # vector store unreachable/inconsistent: answered from BM25
INDEX_RELOADED = "index_reloaded"  # the index changed under the server and was reloaded

_counts: Counter[str] = Counter()
_lock = threading.Lock()


def count(event: str, n: int = 1) -> None:
    with _lock:
        _counts[event] += n


def counters() -> dict[str, int]:
    """A snapshot; the known events are always present (0 when they never happened)."""
    with _lock:
        return {DENSE_FAILED: 0, INDEX_RELOADED: 0, **_counts}


def reset() -> None:
    with _lock:
        _counts.clear()
