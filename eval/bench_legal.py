"""Optional benchmark inputs: real Vietnamese legal text from ``../shared/bench-legal`` (never copied).

Used by ``eval.bench`` when the folder exists, reported as skipped otherwise:

* **Regulation files** (``regs/*.txt``, 30 files, ~1 M characters): ingested with the product's
  ``run_ingest`` straight from the shared folder (``prune=False``; the ``.source.txt`` notes are
  left out) into a temporary index: chunks/s end to end, and the time until they are answerable
  (lexical phase) versus until their vectors are stored.
* **ALQAC legal retrieval** (``subset/``): ``n`` articles (every gold article of the questions
  first, then others from the same laws, in file order) written one file per article into a
  temporary folder outside the project, ingested, and the 300 questions searched exactly as the
  assistant searches (``understand`` + ``HybridRetriever.search``, no scope). R@1/5/10 and MRR@10
  over the distinct articles ranked, for the hybrid and the lexical-only retriever.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from assistant.retrieval import HybridRetriever, Scope
from assistant.settings import PROJECT_ROOT, Settings
from assistant.understanding import understand
from ingest.embeddings import embedder_name, get_embeddings
from ingest.index import VectorIndex, sync_lexical
from ingest.pipeline import run_ingest

BENCH_LEGAL = PROJECT_ROOT.parent / "shared" / "bench-legal"
SEARCH_DEPTH = 50  # passages fetched per question before collapsing them into distinct articles
CUTOFFS = (1, 5, 10)


def available(root: Path = BENCH_LEGAL) -> bool:
    return (root / "regs").is_dir() and (root / "subset" / "articles.jsonl").is_file()


def _settings(workdir: Path, corpus: Path) -> Settings:
    return Settings(
        corpus_dir=corpus, index_dir=workdir / "index", feedback_log=workdir / "fb.jsonl", llm="none"
    )


def bench_regs(workdir: Path, n_files: int | None = None, root: Path = BENCH_LEGAL) -> dict[str, Any]:
    """Ingest the regulation files (the first ``n_files`` by name; all when None)."""
    regs = root / "regs"
    files = sorted(p for p in regs.glob("*.txt") if not p.name.endswith(".source.txt"))[:n_files]
    settings = _settings(workdir, regs)
    # Model load is not part of the ingest rate: a batch loads the batch engine too.
    get_embeddings(settings).embed_documents(["Điều 1. Phạm vi điều chỉnh"] * 8)  # as eval.bench.WARM_TEXTS
    report = run_ingest(settings, files, prune=False)
    return {
        "files": report.files,
        "chars": sum(len(p.read_text(encoding="utf-8")) for p in files),
        "chunks": report.chunks_added,
        "total_s": report.seconds,
        "searchable_s": report.searchable_s,
        "vectors_s": report.vectors_s,
        "chunks_per_s": report.chunks_added / report.seconds if report.seconds else 0.0,
        "errors": len(report.errors),
    }


def _subset(root: Path, n_articles: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    articles = [
        json.loads(x)
        for x in (root / "subset" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        if x
    ]
    questions = [
        json.loads(x)
        for x in (root / "subset" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if x
    ]
    gold = {g for q in questions for g in q["gold"]}
    laws = {a["law_id"] for a in articles if a["id"] in gold}
    chosen = [a for a in articles if a["id"] in gold]
    chosen += [a for a in articles if a["id"] not in gold and a["law_id"] in laws]
    chosen = chosen[:n_articles]
    kept = {a["id"] for a in chosen}
    return chosen, [q for q in questions if set(q["gold"]) <= kept]


def bench_alqac(workdir: Path, n_articles: int = 500, root: Path = BENCH_LEGAL) -> dict[str, Any]:
    """R@k and MRR@10 on ALQAC questions over ``n_articles`` articles (see the module docstring)."""
    articles, questions = _subset(root, n_articles)
    corpus = workdir / "alqac"
    corpus.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, str] = {}
    for i, a in enumerate(articles):
        name = f"{i:05d}.txt"
        (corpus / name).write_text(
            f"{a['law_name']}, Điều {a['article_id']}. {a['text']}\n", encoding="utf-8"
        )
        by_source[name] = a["id"]
    settings = _settings(workdir, corpus)
    emb = get_embeddings(settings)
    report = run_ingest(settings)
    vectors = VectorIndex(settings, embedder_name(emb))
    lexical, _ = sync_lexical(Path(settings.index_dir), vectors)
    out: dict[str, Any] = {
        "articles": len(articles),
        "questions": len(questions),
        "chunks": report.chunks_added,
        "ingest_s": report.seconds,
        "searchable_s": report.searchable_s,
    }
    for mode in ("hybrid", "lexical"):
        retriever = HybridRetriever.from_settings(settings, vectors, lexical, emb, k=SEARCH_DEPTH, mode=mode)
        hits = {k: 0 for k in CUTOFFS}
        rr = 0.0
        t = time.perf_counter()
        for q in questions:
            ranked: list[str] = []
            for p in retriever.search(understand(q["text"]), Scope(), k=SEARCH_DEPTH):
                art = by_source.get(p.source)
                if art and art not in ranked:
                    ranked.append(art)
            first = next((i for i, a in enumerate(ranked) if a in q["gold"]), None)
            for k in CUTOFFS:
                hits[k] += first is not None and first < k
            rr += 1.0 / (first + 1) if first is not None and first < 10 else 0.0
        n = len(questions) or 1
        out[mode] = {
            **{f"r@{k}": hits[k] / n for k in CUTOFFS},
            "mrr@10": rr / n,
            "ms_per_question": 1000 * (time.perf_counter() - t) / n,
        }
    return out
