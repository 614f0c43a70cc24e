"""The files offices keep: TCVN3/VNI text, spreadsheets, .doc, scanned PDFs and images.

Every fixture is made here from text written for these tests (invented figures): legacy bytes
are encoded by the tests' own encoders, spreadsheets built with openpyxl/xlwt, .doc files
converted from our own .docx by LibreOffice, scans rendered with DejaVu and given noise and
a slight rotation. Each test asserts the extracted text or figure, not merely that something
came out.
"""

from __future__ import annotations

import io
import shutil
import sys
import unicodedata
from pathlib import Path

import pytest

from eval.bench_formats import PAGES, cer, poor_scan, render_scan
from ingest.chunking import chunk_document, place_of
from ingest.converters import ConverterLimits, run_converter
from ingest.legacy_encoding import convert, detect_text
from ingest.loaders import LoadError, load_file
from ingest.models import DocMeta, SourceDocument, TextSpan

MB = 1024 * 1024
LIMIT = 20 * MB
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")

# Written for these tests; the figures are invented.
VI_LEGACY = (
    "Trong năm học, trường chính trị tỉnh đã mở 12 lớp đào tạo trung cấp lý luận chính trị "
    "cho 1.050 học viên; tỷ lệ tốt nghiệp loại giỏi đạt 18,5%. Những người được cử đi học "
    "đều hoàn thành nhiệm vụ, nâng cao trình độ quản lý nhà nước ở địa phương."
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def expect_error(path: Path, vi: str, en: str, max_bytes: int = LIMIT) -> LoadError:
    with pytest.raises(LoadError) as info:
        load_file(path, max_bytes)
    err = info.value
    assert str(err) == f"{path}: {err.reason_vi} ({err.reason_en})"
    assert vi in err.reason_vi, str(err)
    assert en in err.reason_en, str(err)
    return err


# --- the tests' own legacy encoders ---------------------------------------------------------
# TCVN3 (TCVN 5712:1993 VN3): the letters, and below them the byte each is typed as.
_T3_UNI = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĂÂĐÊÔƠƯ"
_T3_BYTES = bytes(
    [0xB5, 0xB8, 0xB6, 0xB7, 0xB9, 0xA8, 0xBB, 0xBE, 0xBC, 0xBD, 0xC6, 0xA9, 0xC7, 0xCA, 0xC8, 0xC9,
     0xCB, 0xAE, 0xCC, 0xD0, 0xCE, 0xCF, 0xD1, 0xAA, 0xD2, 0xD5, 0xD3, 0xD4, 0xD6, 0xD7, 0xDD, 0xD8,
     0xDC, 0xDE, 0xDF, 0xE3, 0xE1, 0xE2, 0xE4, 0xAB, 0xE5, 0xE8, 0xE6, 0xE7, 0xE9, 0xAC, 0xEA, 0xED,
     0xEB, 0xEC, 0xEE, 0xEF, 0xF3, 0xF1, 0xF2, 0xF4, 0xAD, 0xF5, 0xF8, 0xF6, 0xF7, 0xF9, 0xFA, 0xFD,
     0xFB, 0xFC, 0xFE, 0xA1, 0xA2, 0xA7, 0xA3, 0xA4, 0xA5, 0xA6]
)  # fmt: skip
assert len(_T3_UNI) == len(_T3_BYTES)


def tcvn3_bytes(text: str) -> bytes:
    """Encode as a .VnTime user typed it (toned capitals do not exist in VN3: typed lowercase)."""
    table = dict(zip(_T3_UNI, _T3_BYTES, strict=True))
    out = bytearray()
    for ch in nfc(text):
        if ch in table:
            out.append(table[ch])
        elif ch.lower() in table:
            out.append(table[ch.lower()])
        else:
            out += ch.encode("ascii")
    return bytes(out)


# VNI-Windows: a base letter, then one byte for the vowel mark and/or the tone.
_VNI_TONE = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_HAT_TONE = {"\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
_VNI_BREVE_TONE = {"\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
_VNI_I = {"\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}


def vni_text(text: str) -> str:
    """Unicode → VNI-Windows as the characters its bytes show in Windows-1252."""
    out = []
    for ch in nfc(text):
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        upper = base.isupper()
        low = base.lower()
        tone = next((m for m in marks if m in _VNI_TONE), "")
        hat, breve, horn = "\u0302" in marks, "\u0306" in marks, "\u031b" in marks
        if low == "đ":
            code = "ñ"
        elif low == "i" and tone:
            code = _VNI_I[tone]
        elif low == "y" and tone == "\u0323":
            code = "î"
        elif hat:
            code = low + (_VNI_HAT_TONE[tone] if tone else "â")
        elif breve:
            code = low + (_VNI_BREVE_TONE[tone] if tone else "ê")
        elif horn:
            code = {"o": "ô", "u": "ö"}[low] + _VNI_TONE.get(tone, "")
        elif tone:
            code = low + _VNI_TONE[tone]
        else:
            code = ch.lower() if low == ch.lower() else ch
            out.append(ch)
            continue
        out.append(code.upper() if upper else code)
    return "".join(out)


def vni_bytes(text: str) -> bytes:
    return vni_text(text).encode("cp1252")


# --- legacy encodings in .txt ----------------------------------------------------------------


def test_the_issue_example_converts() -> None:
    assert convert("§µo t¹o", "tcvn3") == "Đào tạo"
    assert convert("ñaøo taïo", "vni") == "đào tạo"


def test_tcvn3_txt_is_converted_to_unicode(tmp_path: Path) -> None:
    data = tcvn3_bytes(VI_LEGACY)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / "abc.txt"
    path.write_bytes(data)
    loaded = load_file(path, LIMIT)
    assert loaded.encoding == "tcvn3"
    assert loaded.text == nfc(VI_LEGACY)


def test_vni_txt_is_converted_to_unicode(tmp_path: Path) -> None:
    path = tmp_path / "vni.txt"
    path.write_bytes(vni_bytes(VI_LEGACY))
    loaded = load_file(path, LIMIT)
    assert loaded.encoding == "vni"
    assert loaded.text == nfc(VI_LEGACY)


def test_vni_capitals_convert() -> None:
    text = "ĐẢNG ỦY KHỐI CÁC CƠ QUAN TỈNH TỔ CHỨC HỘI NGHỊ TỔNG KẾT CÔNG TÁC ĐÀO TẠO"
    assert convert(vni_text(text), "vni") == text


def test_tcvn3_saved_as_utf8_is_converted(tmp_path: Path) -> None:
    """A TCVN3 document copied out of Word and saved as UTF-8 keeps the font's glyph characters."""
    glyphs = tcvn3_bytes(VI_LEGACY).decode("latin-1")
    path = tmp_path / "utf8-abc.txt"
    path.write_text(glyphs, encoding="utf-8")
    loaded = load_file(path, LIMIT)
    assert loaded.encoding == "utf-8/tcvn3"
    assert loaded.text == nfc(VI_LEGACY)


# Real Unicode text full of the letters the legacy tables reuse (à á â ã ê ô õ ù ú ý …).
REAL_VI = (
    "Ủy ban nhân dân tỉnh giao Sở Nội vụ chủ trì, phối hợp với các sở, ban, ngành rà soát "
    "đội ngũ cán bộ, công chức cấp xã; ưu tiên bồi dưỡng kỹ năng số, ngoại ngữ và tin học. "
    "Năm 2023 có 2.415 lượt người tham gia, vượt 7% so với kế hoạch đề ra."
)


def cp1258_bytes(text: str) -> bytes:
    """Windows-1258 as legacy editors wrote it: base letters precomposed, tone marks combining."""
    out = []
    tones = "\u0300\u0301\u0303\u0309\u0323"
    for ch in nfc(text):
        try:
            ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            ch = nfc("".join(c for c in d if c not in tones)) + "".join(c for c in d if c in tones)
        out.append(ch)
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        pytest.param(REAL_VI.encode("utf-8"), "utf-8", id="utf-8"),
        pytest.param(cp1258_bytes(REAL_VI), "cp1258", id="cp1258"),
        pytest.param(VI_LEGACY.encode("utf-8"), "utf-8", id="utf-8-other-text"),
        pytest.param(cp1258_bytes(VI_LEGACY), "cp1258", id="cp1258-other-text"),
    ],
)
def test_real_unicode_and_cp1258_are_never_converted(tmp_path: Path, encoded: bytes, encoding: str) -> None:
    path = tmp_path / "thật.txt"
    path.write_bytes(encoded)
    loaded = load_file(path, LIMIT)
    assert loaded.encoding == encoding
    assert loaded.text == nfc(encoded.decode(encoding))


def test_western_text_is_not_taken_for_a_vietnamese_font() -> None:
    assert detect_text("Größe und Übung für die Schüler, schöne Grüße aus Österreich.") is None
    assert detect_text("Le café où nous étions était très agréable, à côté du marché.") is None


# --- .docx runs in legacy fonts --------------------------------------------------------------


def _docx_with_fonts(path: Path, runs: list[list[tuple[str, str | None]]]) -> Path:
    import docx

    document = docx.Document()
    for para in runs:
        p = document.add_paragraph()
        for text, font in para:
            run = p.add_run(text)
            if font:
                run.font.name = font
    document.save(str(path))
    return path


def test_docx_runs_in_vntime_and_vni_fonts_are_converted(tmp_path: Path) -> None:
    title = "Kết quả bồi dưỡng năm 2023"
    path = _docx_with_fonts(
        tmp_path / "phông-cũ.docx",
        [
            [(tcvn3_bytes(title).decode("latin-1"), ".VnTimeH")],  # an uppercase-only TCVN3 font
            [(tcvn3_bytes(VI_LEGACY).decode("latin-1"), ".VnTime")],
            [(vni_text("Ghi chú: "), "VNI-Times"), ("số liệu do Sở Nội vụ cung cấp.", "Times New Roman")],
        ],
    )
    loaded = load_file(path, LIMIT)
    assert loaded.text == f"{title.upper()}\n\n{nfc(VI_LEGACY)}\n\nGhi chú: số liệu do Sở Nội vụ cung cấp."


def test_pdf_printed_from_a_tcvn3_document_is_converted(tmp_path: Path) -> None:
    """The text layer of such a PDF holds the .VnTime glyph characters ("§µo t¹o")."""
    import fpdf

    pdf = fpdf.FPDF()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    words = tcvn3_bytes(VI_LEGACY).decode("latin-1").split()
    for row in range(0, len(words), 8):  # text() draws U+00AD ("ư" in TCVN3) as a glyph; multi_cell would
        pdf.text(15, 20 + row, " ".join(words[row : row + 8]))  # treat it as a soft hyphen and drop it
    path = tmp_path / "in-từ-abc.pdf"
    path.write_bytes(bytes(pdf.output()))
    text = load_file(path, LIMIT).text
    assert " ".join(text.split()) == nfc(VI_LEGACY)


# --- spreadsheets ----------------------------------------------------------------------------

GRADES = [("Giỏi", 12, 15), ("Khá", 48, 51), ("Trung bình", 7, 4)]


def _results_xlsx(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Kết quả"
    ws["A1"] = "Số học viên tốt nghiệp theo xếp loại"
    ws.merge_cells("A1:D1")
    ws.append(["STT", "Xếp loại", "Năm 2021", "Năm 2022"])
    for i, (grade, a, b) in enumerate(GRADES, start=1):
        ws.append([i, grade, a, b])
    ws["A6"] = "Tỷ lệ giỏi"
    ws.merge_cells("A6:B6")
    ws["C6"] = 0.179
    ws["C6"].number_format = "0.0%"
    ws["D6"] = 0.214
    ws["D6"].number_format = "0.0%"
    notes = wb.create_sheet("Ghi chú")
    notes["A1"] = "Số liệu do Trường Chính trị tỉnh tổng hợp."
    wb.save(str(path))
    return path


def test_xlsx_rows_keep_row_and_column_headers(tmp_path: Path) -> None:
    loaded = load_file(_results_xlsx(tmp_path / "kết-quả.xlsx"), LIMIT)
    title = "Số học viên tốt nghiệp theo xếp loại"
    assert loaded.text.split("\n\n") == [
        f"Bảng «Kết quả»: {title}",
        f"{title}: các cột STT | Xếp loại | Năm 2021 | Năm 2022.",
        f"{title} – Năm 2021: 12 – Xếp loại Giỏi; {title} – Năm 2022: 15 – Xếp loại Giỏi.",
        f"{title} – Năm 2021: 48 – Xếp loại Khá; {title} – Năm 2022: 51 – Xếp loại Khá.",
        f"{title} – Năm 2021: 7 – Xếp loại Trung bình; {title} – Năm 2022: 4 – Xếp loại Trung bình.",
        f"{title} – Năm 2021: 17,9% – Tỷ lệ giỏi; {title} – Năm 2022: 21,4% – Tỷ lệ giỏi.",
        "Bảng «Ghi chú»",
        "Số liệu do Trường Chính trị tỉnh tổng hợp.",
    ]
    giỏi = next(sp for sp in loaded.spans if "Giỏi;" in loaded.text[sp.start : sp.end])
    assert (giỏi.sheet, giỏi.cells) == ("Kết quả", "A3:D3")
    assert (loaded.spans[1].sheet, loaded.spans[1].cells) == ("Kết quả", "A2:D2")  # the header row
    place = place_of(loaded.spans, giỏi.start, loaded.spans[5].end)
    assert place.locator == "bảng «Kết quả», ô A3:D6"


def test_xls_reads_like_xlsx(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt", reason="xlwt (dev dependency) writes the test .xls")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Kinh phí")
    sheet.write(0, 0, "Năm")
    sheet.write(0, 1, "Kinh phí (triệu đồng)")
    sheet.write(1, 0, 2022)
    sheet.write(1, 1, 3750.5)
    path = tmp_path / "kinh-phí.xls"
    book.save(str(path))
    loaded = load_file(path, LIMIT)
    assert loaded.text == (
        "Bảng «Kinh phí»\n\ncác cột Năm | Kinh phí (triệu đồng).\n\nKinh phí (triệu đồng): 3750,5 – Năm 2022."
    )
    assert loaded.kind == "xls"


def test_xlsx_typed_in_a_tcvn3_font_is_converted(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "KQ"

    def abc(text: str) -> str:
        return tcvn3_bytes(text).decode("latin-1")

    ws.append([abc("Đơn vị"), abc("Số lớp"), abc("Số học viên")])
    ws.append([abc("Trường Chính trị tỉnh"), 17, 1284])
    ws.append([abc("Trung tâm bồi dưỡng huyện"), 9, 612])
    path = tmp_path / "abc.xlsx"
    wb.save(str(path))
    lines = load_file(path, LIMIT).text.split("\n\n")
    assert (
        lines[2]
        == "Số lớp: 17 – Đơn vị Trường Chính trị tỉnh; Số học viên: 1284 – Đơn vị Trường Chính trị tỉnh."
    )
    assert lines[3].startswith("Số lớp: 9 – Đơn vị Trung tâm bồi dưỡng huyện;")


def test_corrupt_spreadsheets_get_a_clear_error(tmp_path: Path) -> None:
    good = _results_xlsx(tmp_path / "tốt.xlsx").read_bytes()
    broken = tmp_path / "hỏng.xlsx"
    broken.write_bytes(good[: len(good) // 2])
    expect_error(broken, "tệp .xlsx hỏng", "corrupt .xlsx")
    fake = tmp_path / "giả.xls"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    expect_error(fake, "tệp .xls hỏng", "corrupt .xls")


def test_xlsx_zip_bomb_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * MB))
    assert path.stat().st_size < MB
    # With a 1 MB file limit an archive may inflate to 200 MB (the floor for any limit).
    expect_error(path, "giải nén quá lớn", "inflates too large", max_bytes=MB)


# --- .doc (Word 97-2003) ---------------------------------------------------------------------

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


@pytest.fixture(scope="module")
def word97(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real .doc: our own .docx (paragraphs, a table, a .VnTime run) saved by LibreOffice."""
    import docx

    work = tmp_path_factory.mktemp("doc")
    document = docx.Document()
    document.add_heading("Báo cáo bồi dưỡng cán bộ năm 2023", 1)
    document.add_paragraph("Tỉnh đã mở 14 lớp cho 1.236 lượt cán bộ, công chức.")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [["Xếp loại", "Năm 2022", "Năm 2023"], ["Giỏi", "41", "57"], ["Khá", "118", "130"]]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    legacy = document.add_paragraph().add_run(tcvn3_bytes(VI_LEGACY).decode("latin-1"))
    legacy.font.name = ".VnTime"
    source = work / "nguồn.docx"
    document.save(str(source))
    run_converter(
        source,
        ["soffice", f"-env:UserInstallation={(work / 'p').as_uri()}", "--headless", "--convert-to", "doc",
         "--outdir", str(work), str(source)],
        "tạo .doc",
        "making the test .doc",
    )  # fmt: skip
    path = work / "nguồn.doc"
    assert path.read_bytes().startswith(b"\xd0\xcf\x11\xe0")
    return path


@needs_soffice
def test_doc_keeps_paragraphs_tables_and_legacy_fonts(word97: Path) -> None:
    loaded = load_file(word97, LIMIT)
    assert loaded.kind == "doc"
    assert loaded.title == "Báo cáo bồi dưỡng cán bộ năm 2023"
    assert loaded.text.split("\n\n") == [
        "Báo cáo bồi dưỡng cán bộ năm 2023",
        "Tỉnh đã mở 14 lớp cho 1.236 lượt cán bộ, công chức.",
        "Xếp loại | Năm 2022 | Năm 2023\nGiỏi | 41 | 57\nKhá | 118 | 130",
        nfc(VI_LEGACY),
    ]


@needs_soffice
def test_bad_doc_files_get_a_clear_error(tmp_path: Path, word97: Path) -> None:
    text_as_doc = tmp_path / "không-phải.doc"
    text_as_doc.write_bytes("Đây là văn bản thường.".encode())
    expect_error(text_as_doc, "không phải tài liệu Word 97-2003", "not a Word 97-2003 document")
    cut = tmp_path / "cụt.doc"
    cut.write_bytes(word97.read_bytes()[:1024])
    expect_error(cut, "tệp .doc hỏng", "")


def test_converter_timeout_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    script = (
        f"import subprocess,time; subprocess.Popen(['sh','-c','sleep 3; touch {marker}']); time.sleep(30)"
    )
    with pytest.raises(LoadError) as info:
        run_converter(tmp_path / "x.doc", [sys.executable, "-c", script], "chuyển", "converting",
                      ConverterLimits(timeout_s=1.0))  # fmt: skip
    assert "quá thời gian" in info.value.reason_vi and "timed out" in info.value.reason_en
    import time

    time.sleep(4)  # the grandchild would have touched the marker by now had it survived
    assert not marker.exists()


def test_converter_memory_limit(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as info:
        run_converter(tmp_path / "x.doc", [sys.executable, "-c", "b = bytearray(900 * 1024 * 1024)"],
                      "chuyển", "converting", ConverterLimits(memory_bytes=300 * MB))  # fmt: skip
    assert "thất bại" in info.value.reason_vi and "converting failed" in info.value.reason_en


# --- OCR: scanned PDFs and images ------------------------------------------------------------

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None or shutil.which("gs") is None,
    reason="tesseract/ghostscript not installed",
)

SCAN_LINES = PAGES[0]  # our own report page (eval/bench_formats.py), invented figures


def mixed_pdf(tmp_path: Path) -> Path:
    """Page 1 typed (text layer), page 2 a scan (image only), page 3 typed."""
    import fpdf
    from pypdf import PdfReader, PdfWriter

    typed = fpdf.FPDF()
    typed.add_font("DejaVu", fname=str(FONT))
    typed.set_font("DejaVu", size=12)
    for text in ("Trang một: Sở Nội vụ tổng hợp kết quả đào tạo cán bộ năm 2024.",
                 "Trang ba: Kiến nghị tăng kinh phí bồi dưỡng cho cấp xã trong năm tới."):  # fmt: skip
        typed.add_page()
        typed.multi_cell(0, 8, text)
    scan = io.BytesIO()
    render_scan(SCAN_LINES).save(scan, format="PDF", resolution=300)
    typed_reader = PdfReader(io.BytesIO(bytes(typed.output())))
    writer = PdfWriter()
    writer.add_page(typed_reader.pages[0])
    writer.add_page(PdfReader(io.BytesIO(scan.getvalue())).pages[0])
    writer.add_page(typed_reader.pages[1])
    path = tmp_path / "hỗn-hợp.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@needs_tesseract
def test_mixed_pdf_is_read_page_by_page_with_ocr_where_needed(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    loaded = load_file(mixed_pdf(tmp_path), LIMIT, on_page=lambda done, total: calls.append((done, total)))
    assert [sp.page for sp in loaded.spans] == [1, 2, 3]
    typed1, scanned, typed3 = (loaded.text[sp.start : sp.end] for sp in loaded.spans)
    assert typed1.startswith("Trang một: Sở Nội vụ") and typed3.startswith("Trang ba: Kiến nghị")
    assert loaded.spans[0].ocr_conf == -1.0 and loaded.spans[2].ocr_conf == -1.0
    assert loaded.spans[1].ocr_conf >= 85, loaded.spans[1]
    for figure in ("17 lớp", "1.284 học viên", "21,6%", "4,35 tỷ đồng", "3,1 tỷ đồng"):
        assert figure in scanned, scanned
    assert cer("\n".join(SCAN_LINES), scanned) < 0.03, scanned
    assert calls == [(0, 1), (1, 1)]  # progress per OCR'd page

    doc = SourceDocument(
        doc_id="hh", source="hỗn-hợp.pdf", path=tmp_path / "hỗn-hợp.pdf", text=loaded.text, sha256="x",
        meta=DocMeta(title="Hỗn hợp"), kind="pdf", spans=loaded.spans,
    )  # fmt: skip
    chunks = chunk_document(doc, max_chars=200, min_chars=40)
    cited = next(c for c in chunks if "1.284" in c.text)
    assert cited.text == loaded.text[cited.start : cited.end]
    assert (cited.page, cited.page_end, cited.locator) == (2, 2, "trang 2")
    assert 85 <= cited.ocr_conf <= 100 and not cited.low_ocr_confidence(80.0)
    assert chunks[0].locator == "trang 1" and chunks[0].ocr_conf == -1.0
    assert chunks[0].metadata()["locator"] == "trang 1"


@needs_tesseract
def test_png_and_multipage_tiff(tmp_path: Path) -> None:
    png = tmp_path / "ảnh.png"
    render_scan(SCAN_LINES[:2]).save(png)
    loaded = load_file(png, LIMIT)
    assert "Trường Chính trị tỉnh đã mở 17 lớp" in loaded.text
    assert [sp.page for sp in loaded.spans] == [1]

    tif = tmp_path / "hai-trang.tif"
    first = render_scan(SCAN_LINES[2:3], seed=5)
    second = render_scan(SCAN_LINES[3:4], seed=6, angle=-0.8)
    first.save(tif, save_all=True, append_images=[second], compression="tiff_lzw")
    loaded = load_file(tif, LIMIT)
    assert [sp.page for sp in loaded.spans] == [1, 2]
    assert "1.284 học viên" in loaded.text[loaded.spans[0].start : loaded.spans[0].end]
    assert "4,35 tỷ đồng" in loaded.text[loaded.spans[1].start : loaded.spans[1].end]


@needs_tesseract
def test_a_page_scanned_sideways_is_turned_and_read(tmp_path: Path) -> None:
    path = tmp_path / "nằm-ngang.png"
    render_scan(SCAN_LINES).rotate(90, expand=True).save(path)
    loaded = load_file(path, LIMIT)
    assert "Trường Chính trị tỉnh đã mở 17 lớp trung cấp lý luận chính trị" in loaded.text, loaded.text
    assert loaded.spans[0].ocr_conf >= 85


@needs_tesseract
def test_a_poor_scan_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "mờ.png"
    poor_scan(SCAN_LINES).save(path)
    loaded = load_file(path, LIMIT)
    conf = loaded.spans[0].ocr_conf
    assert 0 < conf < 80, conf  # some words are misread at this quality: the figures cannot be trusted
    doc = SourceDocument(
        doc_id="m", source="mờ.png", path=path, text=loaded.text, sha256="x", meta=DocMeta(title="Mờ"),
        kind="image", spans=loaded.spans,
    )  # fmt: skip
    chunks = chunk_document(doc)
    assert chunks and all(c.low_ocr_confidence(80.0) and c.locator == "trang 1" for c in chunks)


def test_hostile_images_get_a_clear_error(tmp_path: Path) -> None:
    from PIL import Image

    huge = tmp_path / "khổng-lồ.png"
    Image.new("1", (12000, 12000), 1).save(huge)  # 144 Mpx, a few kB on disk
    assert huge.stat().st_size < MB
    expect_error(huge, "quá lớn", "too large")
    broken = tmp_path / "hỏng.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    expect_error(broken, "tệp ảnh hỏng", "corrupt or unreadable image")


def test_zero_page_pdf_gets_a_clear_error(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    path = tmp_path / "rỗng.pdf"
    with path.open("wb") as fh:
        PdfWriter().write(fh)
    expect_error(path, "tệp PDF hỏng", "no pages")


def test_place_of_spans_and_textspan_defaults() -> None:
    spans = (TextSpan(0, 10, page=1), TextSpan(12, 30, page=2, ocr_conf=71.5), TextSpan(32, 40, page=3))
    assert place_of(spans, 5, 20).locator == "trang 1–2"
    assert place_of(spans, 5, 20).ocr_conf == 71.5
    assert place_of(spans, 33, 39).page == 3
    assert place_of((), 0, 5).locator == ""


# --- the whole path: ingest each format, ask, check the citation's place -----------------------


def _sidecar(path: Path, title: str, province: str) -> None:
    path.with_name(path.name.rsplit(".", 1)[0] + ".meta.yaml").write_text(
        f"title: {title}\nprovince: {province}\n", encoding="utf-8"
    )


@pytest.fixture(scope="module")
def office_assistant(tmp_path_factory: pytest.TempPathFactory, word97: Path) -> object:
    """The real Assistant (real Chroma, real e5) over a temp corpus of one file of each kind."""
    from assistant.service import Assistant
    from assistant.settings import Settings
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("office-index")
    corpus = root / "corpus"
    corpus.mkdir()
    xlsx = _results_xlsx(corpus / "ket-qua-tot-nghiep.xlsx")
    _sidecar(xlsx, "Kết quả tốt nghiệp trung cấp lý luận chính trị", "Yên Bái")
    pdf = corpus / "bao-cao-quet.pdf"
    pdf.write_bytes(mixed_pdf(root).read_bytes())
    _sidecar(pdf, "Báo cáo tổng kết đào tạo năm 2024", "Sơn La")
    doc = corpus / "bao-cao-2023.doc"
    doc.write_bytes(word97.read_bytes())
    _sidecar(doc, "Báo cáo bồi dưỡng cán bộ năm 2023", "Lai Châu")
    txt = corpus / "van-ban-abc.txt"
    txt.write_bytes(tcvn3_bytes(VI_LEGACY))
    _sidecar(txt, "Kết quả năm học", "Điện Biên")
    settings = Settings(
        corpus_dir=corpus, index_dir=root / "index", feedback_log=root / "fb.jsonl", llm="none"
    )
    report = run_ingest(settings)
    assert not report.errors, report.errors
    return Assistant.from_settings(settings)


@needs_soffice
@needs_tesseract
@pytest.mark.parametrize(
    ("question", "figure", "quote", "locator"),
    [
        ("Ở Yên Bái, số học viên tốt nghiệp loại giỏi năm 2021 là bao nhiêu?", "12", "12 – Xếp loại Giỏi",
         "bảng «Kết quả», ô "),
        ("Yên Bái năm 2022 có bao nhiêu học viên tốt nghiệp loại khá?", "51", "51 – Xếp loại Khá", "bảng «Kết quả», ô "),
        ("Yên Bái năm 2022 bao nhiêu học viên tốt nghiệp loại trung bình?", "4", "4 – Xếp loại Trung bình",
         "bảng «Kết quả», ô "),
        ("Tỷ lệ học viên giỏi năm 2022 ở Yên Bái là bao nhiêu phần trăm?", "21,4%", "21,4% – Tỷ lệ giỏi",
         "bảng «Kết quả», ô "),
        ("Sơn La đã mở bao nhiêu lớp trung cấp lý luận chính trị năm 2024?", "17", "17 lớp", "trang 2"),
        ("Kinh phí thực hiện đào tạo năm 2024 của Sơn La là bao nhiêu?", "4,35 tỷ đồng", "4,35 tỷ đồng", "trang 2"),
        ("Lai Châu đã mở bao nhiêu lớp bồi dưỡng năm 2023?", "14", "14 lớp", ""),
        ("Điện Biên mở bao nhiêu lớp đào tạo trung cấp lý luận chính trị?", "12", "12 lớp", ""),
    ],
)  # fmt: skip
def test_figure_questions_over_each_format_cite_their_place(
    office_assistant: object, question: str, figure: str, quote: str, locator: str
) -> None:
    answer = office_assistant.ask(question)  # type: ignore[attr-defined]
    assert not answer.refused, answer.answer
    assert figure in answer.answer, answer.answer
    cited = answer.citations[0]
    assert quote in cited.quote, cited.quote
    assert (
        cited.passage.text[cited.start - cited.passage.start : cited.end - cited.passage.start] == cited.quote
    )
    assert cited.passage.locator.startswith(locator), cited.passage.locator
    if locator.startswith("trang"):
        assert cited.passage.page == 2 and cited.passage.ocr_conf >= 80
