"""Citations of scans and spreadsheets name their page or cells in the sources panel, the copy
text and the .docx export (issue 13: page numbers carried into citations and the export)."""

from __future__ import annotations

from pathlib import Path

from docx import Document

from assistant.app_render import answer_docx, copy_text, sources_html
from assistant.citations import make_citation
from assistant.types import Answer, Passage

TEXT = "Năm 2022 mở 17 lớp bồi dưỡng cho 1.240 học viên."


def _answer(locator: str, ocr_conf: float) -> Answer:
    p = Passage(
        chunk_id="c", doc_id="d", source="uploads/bao-cao-scan.pdf", title="Báo cáo quét", province="Hà Giang",
        period="2022", doc_type="", section="Kết quả", start=0, end=len(TEXT), text=TEXT, index_text=TEXT,
        page=3, page_end=3, locator=locator, ocr_conf=ocr_conf,
    )
    cit = make_citation(1, p, 12, 17)
    return Answer(answer="Hà Giang: mở 17 lớp [1].", refused=False, mode="qa", citations=[cit], question="Mấy lớp?")


def test_page_shown_in_panel_copy_and_docx(tmp_path: Path) -> None:
    ans = _answer("trang 3", 72.0)
    panel = sources_html(ans)
    assert "Vị trí: trang 3" in panel and "độ tin cậy 72/100" in panel
    assert "tệp uploads/bao-cao-scan.pdf, trang 3, mục: Kết quả" in copy_text(ans)
    doc = Document(str(answer_docx(ans, tmp_path / "a.docx")))
    assert any("trang 3" in para.text for para in doc.paragraphs)


def test_cells_shown_for_a_spreadsheet_and_no_scan_note_for_typed_text() -> None:
    ans = _answer("bảng «Kết quả», ô A3:D6", -1.0)
    panel = sources_html(ans)
    assert "ô A3:D6" in panel and "bản quét" not in panel
