"""The eval gate: the extractive path over the whole gold set must meet ``THRESHOLDS``."""

from __future__ import annotations

from pathlib import Path

from eval.metrics import THRESHOLDS, aggregate, check_thresholds, load_corpus_texts, load_gold
from eval.run import GOLD, run_items


def test_extractive_path_meets_thresholds(assistant, corpus_settings) -> None:  # type: ignore[no-untyped-def]
    items = load_gold(GOLD)
    results, _ = run_items(
        assistant, items, load_corpus_texts(Path(corpus_settings.corpus_dir)), use_llm=False
    )
    summary = aggregate(results)
    failures = check_thresholds(summary, THRESHOLDS)
    assert not failures, (failures, summary["failed"])
    assert summary["grounding_violations"] == 0
