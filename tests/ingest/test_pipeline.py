"""Ingestion end to end: real files, real Chroma in a temp dir, the real e5 model."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from assistant.settings import Settings
from ingest.embeddings import embedder_name, get_embeddings
from ingest.index import LexicalIndex, VectorIndex
from ingest.pipeline import run_ingest

NGHE_AN = "004_a33d8be99f4285d3.txt"
LAO_CAI = "001_4cad61de56c6e0a2.txt"


def _settings(corpus: Path, index: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=index, llm="none")


def _vectors(s: Settings) -> VectorIndex:
    return VectorIndex(s, embedder_name(get_embeddings(s)))


@pytest.fixture()
def small_corpus(tmp_path: Path, corpus_copy: Path) -> Path:
    """Two real documents (with their metadata) — enough to test updates without long embedding."""
    d = tmp_path / "small"
    d.mkdir()
    for name in (NGHE_AN, LAO_CAI):
        shutil.copy(corpus_copy / name, d / name)
        meta = name.replace(".txt", ".meta.yaml")
        shutil.copy(corpus_copy / meta, d / meta)
    return d


def test_session_index_holds_the_whole_corpus(corpus_settings: Settings) -> None:
    v = _vectors(corpus_settings)
    states = v.doc_states()
    assert len(states) == 5
    for st in states.values():
        assert len(st.sha256) == 1 and st.n_chunks == {len(st.ids)}
    lex = LexicalIndex.load(corpus_settings.index_dir)
    assert {r.chunk_id for r in lex.records} == set(v.all_ids())
    provinces = {r.meta["province"] for r in lex.records}
    assert provinces == {"Lạng Sơn", "Lào Cai", "Hải Dương", "Hòa Bình", "Nghệ An"}


def test_reingest_unchanged_writes_nothing(corpus_settings: Settings) -> None:
    lex_before = LexicalIndex.load(corpus_settings.index_dir)
    manifest = (corpus_settings.index_dir / "lexical" / "lexical.sqlite3").stat().st_mtime_ns
    report = run_ingest(corpus_settings)
    assert report.docs_skipped == 5
    assert (report.docs_added, report.docs_updated, report.docs_removed) == (0, 0, 0)
    assert (report.chunks_added, report.chunks_removed) == (0, 0)
    assert not report.lexical_rebuilt
    assert (corpus_settings.index_dir / "lexical" / "lexical.sqlite3").stat().st_mtime_ns == manifest
    assert LexicalIndex.load(corpus_settings.index_dir).ids_digest == lex_before.ids_digest


def test_changed_file_replaces_its_chunks_and_removed_file_is_deleted(
    small_corpus: Path, tmp_path: Path
) -> None:
    s = _settings(small_corpus, tmp_path / "idx")
    first = run_ingest(s)
    assert first.docs_added == 2 and not first.errors
    v = _vectors(s)
    old = v.doc_states()["004_a33d8be99f4285d3"]

    path = small_corpus / NGHE_AN
    text = path.read_text(encoding="utf-8").replace("cử 935 cán bộ học thạc sỹ", "cử 936 cán bộ học thạc sỹ")
    path.write_text(text, encoding="utf-8")
    second = run_ingest(s)
    assert second.docs_updated == 1 and second.docs_skipped == 1
    assert 0 < second.chunks_added < len(old.ids)  # only the changed chunk is re-embedded
    new = v.doc_states()["004_a33d8be99f4285d3"]
    assert new.sha256 != old.sha256 and new.n_chunks == {len(new.ids)}
    lex = LexicalIndex.load(s.index_dir)
    texts = " ".join(r.text for r in lex.records)
    assert "936 cán bộ học thạc sỹ" in texts and "935 cán bộ học thạc sỹ" not in texts

    (small_corpus / LAO_CAI).unlink()
    third = run_ingest(s)
    assert third.docs_removed == 1
    assert "001_4cad61de56c6e0a2" not in v.doc_states()
    lex = LexicalIndex.load(s.index_dir)
    assert {r.chunk_id for r in lex.records} == set(v.all_ids())
    assert all(r.meta["doc_id"] != "001_4cad61de56c6e0a2" for r in lex.records)


def test_metadata_edit_reindexes(small_corpus: Path, tmp_path: Path) -> None:
    s = _settings(small_corpus, tmp_path / "idx")
    run_ingest(s)
    meta = small_corpus / LAO_CAI.replace(".txt", ".meta.yaml")
    meta.write_text(
        meta.read_text(encoding="utf-8").replace('period: "2010-2015"', 'period: "2010-2016"'), "utf-8"
    )
    report = run_ingest(s)
    assert report.docs_updated == 1
    lex = LexicalIndex.load(s.index_dir)
    assert {r.meta["period"] for r in lex.records if r.meta["doc_id"] == "001_4cad61de56c6e0a2"} == {
        "2010-2016"
    }


def _write_bad_files(d: Path) -> dict[str, str]:
    """One file per bad-input kind, with the word its error must contain."""
    from pypdf import PdfWriter

    d.mkdir(parents=True, exist_ok=True)
    (d / "rỗng.txt").write_bytes(b"")
    (d / "nhị phân.txt").write_bytes(bytes(range(256)) * 8)
    (d / "hỏng.docx").write_bytes(b"PK\x03\x04 not really a zip")
    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.encrypt("mat-khau")
    with (d / "mật khẩu.pdf").open("wb") as f:
        w.write(f)
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=12)
    pdf.cell(text="Báo cáo đào tạo cán bộ năm 2017 của tỉnh.")
    whole = bytes(pdf.output())
    (d / "cắt cụt.pdf").write_bytes(whole[: len(whole) // 2])
    (d / "lớn.txt").write_bytes(("Đào tạo cán bộ. " * 80_000).encode())  # > 1 MB limit below
    rng = random.Random(1)
    (d / "sai mã.txt").write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(2000)))
    return {
        "rỗng.txt": "rỗng",
        "nhị phân.txt": "nhị phân",
        "hỏng.docx": "docx",
        "mật khẩu.pdf": "mật khẩu",
        "cắt cụt.pdf": "PDF",
        "lớn.txt": "quá lớn",
        "sai mã.txt": "mã",
    }


def test_bad_files_each_get_one_clear_error_and_nothing_is_lost(corpus_copy: Path, tmp_path: Path) -> None:
    from docx import Document as Docx

    d = tmp_path / "batch"
    expected = _write_bad_files(d)
    good = Docx()
    good.add_heading("Báo cáo công tác đào tạo cán bộ tỉnh Thái Bình", 1)
    good.add_paragraph("Năm 2020, tỉnh Thái Bình cử 42 cán bộ đi học cao cấp lý luận chính trị.")
    good.save(str(d / "tốt thái bình.docx"))
    s = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "idx", llm="none", max_file_mb=1.0)
    # a previous good index that must survive the bad batch
    seed = tmp_path / "seed"
    seed.mkdir()
    shutil.copy(corpus_copy / LAO_CAI, seed / LAO_CAI)
    run_ingest(s, [seed / LAO_CAI])
    before = set(_vectors(s).all_ids())

    report = run_ingest(s, [d])
    assert report.failed == len(expected)
    for name, word in expected.items():
        lines = [e for e in report.errors if name in e]
        assert len(lines) == 1, (name, report.errors)
        assert word.lower() in lines[0].lower(), lines[0]
    assert report.docs_added == 1  # the good docx
    after = set(_vectors(s).all_ids())
    assert before <= after
    lex = LexicalIndex.load(s.index_dir)
    assert any("cử 42 cán bộ" in r.text and r.meta["province"] == "Thái Bình" for r in lex.records)


def test_cli_exit_code_says_some_files_failed(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import settings as settings_mod
    from assistant.cli import main

    d = tmp_path / "batch"
    d.mkdir()
    (d / "rỗng.txt").write_bytes(b"")
    (d / "ok.txt").write_text("Tỉnh Yên Bái mở 3 lớp bồi dưỡng cán bộ năm 2020.", encoding="utf-8")
    monkeypatch.setenv("DTBD_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("DTBD_CORPUS_DIR", str(corpus_copy))
    settings_mod.get_settings.cache_clear()
    try:
        assert main(["ingest", str(d)]) == 1
        (d / "rỗng.txt").unlink()
        assert main(["ingest", str(d)]) == 0
    finally:
        settings_mod.get_settings.cache_clear()


def test_docx_and_pdf_are_ingested_with_exact_offsets(tmp_path: Path) -> None:
    from docx import Document as Docx
    from fpdf import FPDF

    from ingest.corpus import load_document

    d = tmp_path / "c"
    d.mkdir()
    doc = Docx()
    doc.add_heading("Kết quả đào tạo năm 2022", 1)
    doc.add_paragraph("Tỉnh Hà Giang đã cử 57 cán bộ học thạc sĩ và 3 cán bộ học tiến sĩ.")
    doc.save(str(d / "ha giang.docx"))
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=11)
    pdf.cell(text="Tỉnh Cao Bằng bồi dưỡng 1.250 lượt cán bộ.")
    pdf.output(str(d / "cao bang.pdf"))
    s = Settings(corpus_dir=d, index_dir=tmp_path / "idx", llm="none")
    report = run_ingest(s)
    assert not report.errors and report.docs_added == 2
    lex = LexicalIndex.load(s.index_dir)
    for r in lex.records:
        loaded = load_document(d / r.meta["source"], d, 10**7)
        assert loaded.text[int(r.meta["start"]) : int(r.meta["end"])] == r.text
    provinces = {r.meta["province"] for r in lex.records}
    assert provinces == {"Hà Giang", "Cao Bằng"}


# --- the lexical index: in place, bm25s's scores, searchable before the vectors -------------------

NEW_DOC = (
    "Báo cáo bồi dưỡng cán bộ huyện Đồi Mây năm 2032\n\n"
    "Năm 2032, huyện Đồi Mây tổ chức 23 lớp bồi dưỡng nghiệp vụ văn thư lưu trữ cho 486 học viên, "
    "trong đó có 57 cán bộ cấp xã học chứng chỉ quản trị mạng.\n\n"
    "Kinh phí thực hiện là 2,9 tỷ đồng, do ngân sách tỉnh cấp.\n"
)


def test_lexical_scores_are_bm25s_scores(corpus_settings: Settings) -> None:
    """Same ranking and scores as bm25s (Lucene BM25) on the same records: retrieval is unchanged."""
    import bm25s

    from ingest.normalize import lexical_tokens

    lex = LexicalIndex.load(corpus_settings.index_dir)
    recs = sorted(lex.records, key=lambda r: r.chunk_id)
    ref = bm25s.BM25()
    ref.index([lexical_tokens(r.index_text) or ["∅"] for r in recs], show_progress=False)
    for q in ("Nghệ An đào tạo bao nhiêu thạc sỹ", "nghe an dao tao bao nhieu thac sy", "kinh phí bồi dưỡng"):
        toks = [t for t in lexical_tokens(q) if t in ref.vocab_dict]
        docs, scores = ref.retrieve([toks], k=10, show_progress=False)
        want = [(recs[int(i)].chunk_id, float(s)) for i, s in zip(docs[0], scores[0], strict=True)]
        got = lex.search(q, 10)
        assert [c for c, _ in got] == [c for c, _ in want], q
        assert max(abs(a - b) for (_, a), (_, b) in zip(got, want, strict=True)) < 1e-4


def hits_of_new_doc(s: Settings) -> set[str]:
    lex = LexicalIndex.load(s.index_dir)
    return {r.chunk_id for r in lex.records if r.meta.get("source") == "doi-may.txt"}


def test_new_document_is_answerable_before_its_vectors(small_corpus: Path, tmp_path: Path) -> None:
    from ingest.index import generation, status

    s = _settings(small_corpus, tmp_path / "idx")
    run_ingest(s)
    gen = generation(s)
    total = _vectors(s).count()
    (small_corpus / "doi-may.txt").write_text(NEW_DOC, encoding="utf-8")
    seen: dict[str, object] = {}

    def searchable() -> None:
        lex = LexicalIndex.load(s.index_dir)
        hits = lex.search("huyện Đồi Mây bao nhiêu học viên", 3)
        seen["top"] = lex.records[lex.by_id[hits[0][0]]].text
        seen["pending_ids"] = set(lex.pending_ids)
        seen["status"] = status(s)
        seen["chroma"] = _vectors(s).count()
        seen["generation"] = generation(s)

    report = run_ingest(s, on_searchable=searchable)
    assert report.docs_added == 1 and not report.errors
    assert "486 học viên" in str(seen["top"])  # found by the lexical index …
    assert seen["chroma"] == total  # … while no vector of it was stored yet
    assert hits_of_new_doc(s) == seen["pending_ids"] != set()  # the reader knows which are waiting
    assert seen["status"]["pending_vectors"] > 0 and seen["status"]["chunks"] > total  # type: ignore[index]
    assert seen["generation"] not in ("", gen)
    after = status(s)
    assert after["pending_vectors"] == 0 and after["chunks"] == _vectors(s).count() > total
    assert 0 < report.searchable_s < report.seconds
    # nothing changed → the stamp stays (a reader need not reload)
    stamp = generation(s)
    run_ingest(s)
    assert generation(s) == stamp


def test_add_then_remove_one_document_equals_a_rebuild(small_corpus: Path, tmp_path: Path) -> None:
    """In-place updates leave exactly what a rebuild from Chroma gives (records, counters, scores)."""
    from ingest.index import records_from_vectors

    s = _settings(small_corpus, tmp_path / "idx")
    run_ingest(s)
    before = LexicalIndex.load(s.index_dir)
    q = "đào tạo cán bộ thạc sỹ kinh phí"
    (small_corpus / "doi-may.txt").write_text(NEW_DOC, encoding="utf-8")
    run_ingest(s)
    grown = LexicalIndex.load(s.index_dir)
    rebuilt = LexicalIndex.build(tmp_path / "fresh", records_from_vectors(_vectors(s)), "x")
    assert sorted(grown.by_id) == sorted(rebuilt.by_id) and grown.ids_digest == rebuilt.ids_digest
    got, want = grown.search(q, 8), rebuilt.search(q, 8)
    assert [c for c, _ in got] == [c for c, _ in want]
    assert [x for _, x in got] == pytest.approx([x for _, x in want])
    (small_corpus / "doi-may.txt").unlink()
    report = run_ingest(s)
    assert report.docs_removed == 1
    after = LexicalIndex.load(s.index_dir)
    assert sorted(after.by_id) == sorted(before.by_id) and after.ids_digest == before.ids_digest
    assert [c for c, _ in after.search(q, 8)] == [c for c, _ in before.search(q, 8)]


KILL_AT_SEARCHABLE = r"""
import os, signal
from assistant.settings import Settings
from ingest.pipeline import run_ingest
run_ingest(Settings(), on_searchable=lambda: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_kill_between_lexical_and_vectors_converges(small_corpus: Path, tmp_path: Path) -> None:
    """``kill -9`` right after the new document became searchable, before any vector of it."""
    import os
    import subprocess
    import sys

    from ingest.index import status, sync_lexical

    s = _settings(small_corpus, tmp_path / "idx")
    run_ingest(s)
    total = _vectors(s).count()
    (small_corpus / "doi-may.txt").write_text(NEW_DOC, encoding="utf-8")
    env = {
        **os.environ,
        "DTBD_CORPUS_DIR": str(small_corpus),
        "DTBD_INDEX_DIR": str(s.index_dir),
        "DTBD_LLM": "none",
    }
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AT_SEARCHABLE], env=env, capture_output=True, timeout=600
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert status(s)["pending_vectors"] > 0 and _vectors(s).count() == total
    lex, _ = sync_lexical(s.index_dir, _vectors(s))  # a reader after the crash: the new text is there
    assert any("486 học viên" in r.text for r in lex.records)
    report = run_ingest(s)
    assert report.docs_added == 1 and not report.errors
    lex = LexicalIndex.load(s.index_dir)
    assert set(lex.by_id) == set(_vectors(s).all_ids()) and lex.pending == 0
    again = run_ingest(s)
    assert (again.chunks_added, again.chunks_removed, again.lexical_rebuilt) == (0, 0, False)


def test_short_documents_are_embedded_together_and_stored_whole(tmp_path: Path) -> None:
    """A folder of one-paragraph notices: their chunks go to the model in shared batches (where
    the engine's speed is), yet every document is stored complete, with progress in file order."""
    from langchain_core.embeddings import Embeddings

    from ingest import pipeline

    corpus = tmp_path / "notices"
    corpus.mkdir()
    provinces = ["Lạng Sơn", "Nghệ An", "Lào Cai", "Hải Phòng", "Phú Thọ", "Cà Mau"] * 2
    for i, prov in enumerate(provinces):
        (corpus / f"thong-bao-{i:02d}.txt").write_text(
            f"THÔNG BÁO số {i + 1}/TB-SNV\nSở Nội vụ tỉnh {prov} mở lớp bồi dưỡng kiến thức quản lý nhà nước "
            f"cho {30 + i} công chức cấp xã, khai giảng ngày {i + 1}/3/2025 tại Trường Chính trị tỉnh.\n",
            encoding="utf-8",
        )
    s = _settings(corpus, tmp_path / "idx")
    real = get_embeddings(s)
    calls: list[int] = []

    class Counting(Embeddings):  # the real model, counting how many texts each call carries
        name = embedder_name(real)

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            calls.append(len(texts))
            return real.embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return real.embed_query(text)

    ticks: list[tuple[int, int, str]] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "get_embeddings", lambda _s: Counting())
        report = run_ingest(s, progress=lambda i, n, name: ticks.append((i, n, name)))
    assert not report.errors and report.docs_added == len(provinces)
    assert sum(calls) == report.chunks_added >= len(provinces)
    assert len(calls) < len(provinces) and max(calls) >= len(provinces)  # shared batches, not one per file
    states = _vectors(s).doc_states()
    assert len(states) == len(provinces)
    assert all(st.n_chunks == {len(st.ids)} for st in states.values())  # each document whole
    done = [i for i, _, _ in ticks]
    assert done == sorted(done) and ticks[-1] == (len(provinces), len(provinces), "")
