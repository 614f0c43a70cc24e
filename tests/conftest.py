"""Shared fixtures: one real index of the real corpus per test session (real Chroma, real e5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at a fresh temp index built from ``corpus/`` (extractive, no LLM)."""
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("index")
    settings = Settings(
        corpus_dir=CORPUS,
        index_dir=root / "index",
        cache_dir=PROJECT_ROOT / "var" / "cache",
        feedback_log=root / "feedback.jsonl",
        llm="none",
    )
    report = run_ingest(settings)
    assert not report.errors, report.errors
    return settings


@pytest.fixture(scope="session")
def assistant(corpus_settings: Settings) -> Iterator[object]:
    """The real ``Assistant`` over the session index, extractive path (``DTBD_LLM=none``)."""
    from assistant.service import Assistant

    yield Assistant.from_settings(corpus_settings)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the corpus for tests that change files."""
    import shutil

    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst
