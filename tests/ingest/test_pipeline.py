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
    manifest = (corpus_settings.index_dir / "lexical" / "manifest.json").stat().st_mtime_ns
    report = run_ingest(corpus_settings)
    assert report.docs_skipped == 5
    assert (report.docs_added, report.docs_updated, report.docs_removed) == (0, 0, 0)
    assert (report.chunks_added, report.chunks_removed) == (0, 0)
    assert not report.lexical_rebuilt
    assert (corpus_settings.index_dir / "lexical" / "manifest.json").stat().st_mtime_ns == manifest
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
