from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT
from ingest.boilerplate import kept_spans
from ingest.chunking import chunk_document, sentence_spans
from ingest.corpus import load_document

CORPUS = PROJECT_ROOT / "corpus"
NGHE_AN = "004_a33d8be99f4285d3.txt"


def _doc(name: str):  # type: ignore[no-untyped-def]
    return load_document(CORPUS / name, CORPUS, 20 * 1024 * 1024)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_every_chunk_is_an_exact_span_of_the_file(name: str) -> None:
    doc = _doc(name)
    raw = (CORPUS / name).read_text(encoding="utf-8")
    chunks = chunk_document(doc)
    assert chunks
    for c in chunks:
        assert raw[c.start : c.end] == c.text
        assert c.province == doc.meta.province
        assert c.doc_id == doc.doc_id and c.source == name
    # chunks are ordered and never overlap
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.end <= b.start


def test_cited_span_of_935_is_exact() -> None:
    doc = _doc(NGHE_AN)
    raw = (CORPUS / NGHE_AN).read_text(encoding="utf-8")
    chunk = next(c for c in chunk_document(doc) if "935 cán bộ học thạc sỹ" in c.text)
    local = chunk.text.index("935 cán bộ học thạc sỹ")
    start = chunk.start + local
    assert raw[start : start + len("935 cán bộ học thạc sỹ")] == "935 cán bộ học thạc sỹ"
    # the figure stays with its subject: the sentence that gives the total is in the same chunk
    assert "72.810 lượt cán bộ lãnh đạo" in chunk.text


def test_sections_follow_roman_headings() -> None:
    chunks = chunk_document(_doc(NGHE_AN))
    sections = [c.section for c in chunks]
    assert any(s.startswith("I- Đánh giá chung") for s in sections)
    assert any(s.startswith("II- Một số nhiệm vụ, giải pháp") for s in sections)
    assert any(s.startswith("III- Tổ chức thực hiện") for s in sections)
    giai_phap = [c for c in chunks if c.section.startswith("II-")]
    assert any(c.text.startswith("2. Quán triệt") for c in giai_phap)


def test_plain_headings_become_sections() -> None:
    chunks = chunk_document(_doc("000_4a7643c384b8e085.txt"))
    sections = {c.section for c in chunks}
    assert "Kết quả cụ thể" in sections
    assert "Hạn chế và nguyên nhân" in sections


def test_sentence_with_figure_never_split() -> None:
    for path in CORPUS.glob("*.txt"):
        doc = _doc(path.name)
        chunks = chunk_document(doc, max_chars=300, min_chars=100)  # force sentence-level splits
        for c in chunks:
            # a chunk starts at a sentence start and ends at a sentence end of its paragraph
            assert c.text == c.text.strip()
        joined = {c.text for c in chunks}
        assert any("Trong đó" in t for t in joined) or path.name != "000_4a7643c384b8e085.txt"


def test_trong_do_sentence_stays_with_its_subject() -> None:
    doc = _doc("000_4a7643c384b8e085.txt")
    chunks = chunk_document(doc, max_chars=300, min_chars=100)
    holder = next(c for c in chunks if "Về công tác đào tạo: 1.093 đồng chí." in c.text)
    assert "Trong đó: Đào tạo chuyên môn" in holder.text


def test_sentence_spans_keep_numbers_whole() -> None:
    text = "Tổ chức cho 72.810 lượt cán bộ. Tỷ lệ đạt 50,4%. I. Tiếp tục thực hiện."
    spans = [text[s:e] for s, e in sentence_spans(text, 0, len(text))]
    assert spans == ["Tổ chức cho 72.810 lượt cán bộ.", "Tỷ lệ đạt 50,4%.", "I. Tiếp tục thực hiện."]


@pytest.mark.parametrize(
    ("name", "furniture"),
    [
        ("000_4a7643c384b8e085.txt", ["Phản hồi", "Các tin khác", "Xem nhiều nhất", "Mới nhất"]),
        (
            "001_4cad61de56c6e0a2.txt",
            ["Gửi cho bạn bè", "Thông tin người gửi phản hồi", "Thứ Sáu, 8/11/2024"],
        ),
        ("002_323c091cb9cf4f22.txt", ["(0) Bình luận"]),
        (
            "003_d86997e5cd88a41d.txt",
            ["Các tin khác", "nhà ở xã hội", "Lăng viếng Bác", "Xem các tin đã đưa ngày"],
        ),
    ],
)
def test_boilerplate_is_not_indexed(name: str, furniture: list[str]) -> None:
    doc = _doc(name)
    text = "\n".join(c.text for c in chunk_document(doc))
    raw = (CORPUS / name).read_text(encoding="utf-8")
    for f in furniture:
        assert f in raw  # the rule has something to remove
        assert f not in text


def test_article_dateline_is_kept_but_the_saved_page_date_is_not() -> None:
    hai_duong = "\n".join(c.text for c in chunk_document(_doc("002_323c091cb9cf4f22.txt")))
    assert "14/10/2021" in hai_duong  # when the article was published: a fact users ask for
    lao_cai = "\n".join(c.text for c in chunk_document(_doc("001_4cad61de56c6e0a2.txt")))
    assert "8/11/2024" not in lao_cai  # the day the page was saved, not the article's date


def test_hoa_binh_body_kept_until_author() -> None:
    doc = _doc("003_d86997e5cd88a41d.txt")
    text = "\n".join(c.text for c in chunk_document(doc))
    assert "Phạm Xuân Triển" in text
    assert "240 học viên" in text
    assert "Phạm Minh Chính" not in text  # unrelated teaser after "Các tin khác"


def test_kept_spans_are_offsets_into_the_original() -> None:
    raw = "Tiêu đề\nNội dung chính.\n\nPhản hồi\n\nCác tin khác\n\nTin không liên quan."
    spans = kept_spans(raw)
    kept = [raw[s:e] for s, e in spans]
    assert kept == ["Tiêu đề", "Nội dung chính."]


def test_signature_block_is_a_chunk() -> None:
    chunks = chunk_document(_doc(NGHE_AN))
    assert "Nguyễn Văn Thông" in chunks[-1].text


def test_chunk_ids_are_stable(tmp_path: Path) -> None:
    a = [c.chunk_id for c in chunk_document(_doc(NGHE_AN))]
    b = [c.chunk_id for c in chunk_document(_doc(NGHE_AN))]
    assert a == b and len(set(a)) == len(a)
