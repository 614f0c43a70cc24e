"""Issue 10's gate on documents nobody here wrote: the real pages in ../shared/real-dev (when that
folder exists) and the genre fixtures (always), each with its own gold set, on its own index.

Unseen documents are held to figure accuracy >= 0.85 (the seeds' gate is 0.9 in
``eval.metrics.THRESHOLDS``) and, like every answer, to zero grounding violations.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import PROJECT_ROOT, Settings
from eval.metrics import THRESHOLDS, aggregate, check_thresholds, load_corpus_texts, load_gold
from eval.run import run_items

REAL_DEV = PROJECT_ROOT.parent / "shared" / "real-dev"
GENRES = PROJECT_ROOT / "tests" / "fixtures" / "genres"
GOLD_REAL_DEV = PROJECT_ROOT / "eval" / "gold_real_dev.yaml"
GOLD_GENRES = PROJECT_ROOT / "eval" / "gold_genres.yaml"
# Issue 10: ">= 0.85 on unseen documents, with zero grounding violations everywhere".
UNSEEN_THRESHOLDS: dict[str, tuple[str, float]] = {
    "figure_accuracy": (">=", 0.85),
    "grounding_violations": THRESHOLDS["grounding_violations"],
}
_SKIP_REAL = pytest.mark.skipif(
    not REAL_DEV.is_dir(),
    reason=f"SKIPPED: {REAL_DEV} is not present, so the real-document gate (issue 10) did not run",
)


def _index(corpus: Path, root: Path) -> Settings:
    """A fresh index of the corpus's .txt files only (real-dev's README/SOURCES are not documents)."""
    from ingest.pipeline import run_ingest

    settings = Settings(
        corpus_dir=corpus,
        index_dir=root / "index",
        cache_dir=PROJECT_ROOT / "var" / "cache",
        feedback_log=root / "feedback.jsonl",
        llm="none",
    )
    report = run_ingest(settings, sorted(corpus.glob("*.txt")), prune=False)
    assert not report.errors, report.errors
    return settings


def _gate(corpus: Path, gold: Path, root: Path) -> dict[str, Any]:
    from assistant.service import Assistant

    settings = _index(corpus, root)
    bot = Assistant.from_settings(settings)
    results, answers = run_items(bot, load_gold(gold), load_corpus_texts(corpus), use_llm=False)
    summary = aggregate(results)
    failed = {r.id: r.reasons for r in results if not r.ok}
    shown = {k: summary[k] for k in ("figure_accuracy", "refusal_accuracy", "grounding_violations")}
    print(f"\n{gold.name}: {shown}; failed: {failed}")
    del answers
    failures = check_thresholds(summary, UNSEEN_THRESHOLDS)
    assert not failures, (failures, failed)
    return summary


def _expected_strings_occur(gold: Path, corpus: Path) -> None:
    for item in load_gold(gold):
        for e in item.expected:
            needle = unicodedata.normalize("NFC", e)
            texts = [
                unicodedata.normalize("NFC", (corpus / s).read_text(encoding="utf-8")) for s in item.sources
            ]
            assert any(needle in t for t in texts), f"{gold.name} {item.id}: {e!r} not in {item.sources}"


def test_genre_gold_strings_occur_in_the_fixtures() -> None:
    items = load_gold(GOLD_GENRES)
    assert len(items) >= 20 and any(i.refuse for i in items)
    _expected_strings_occur(GOLD_GENRES, GENRES)


def test_genre_fixtures_meet_the_unseen_gate(tmp_path_factory: pytest.TempPathFactory) -> None:
    _gate(GENRES, GOLD_GENRES, tmp_path_factory.mktemp("genres-gate"))


@_SKIP_REAL
def test_real_dev_gold_strings_occur_in_the_pages() -> None:
    items = load_gold(GOLD_REAL_DEV)
    assert 40 <= len(items) <= 80
    assert len({s for i in items for s in i.sources}) >= 18  # nearly every page is asked about
    _expected_strings_occur(GOLD_REAL_DEV, REAL_DEV)


@_SKIP_REAL
@pytest.mark.timeout(1800)
def test_real_dev_meets_the_unseen_gate(tmp_path_factory: pytest.TempPathFactory) -> None:
    _gate(REAL_DEV, GOLD_REAL_DEV, tmp_path_factory.mktemp("real-dev-gate"))
