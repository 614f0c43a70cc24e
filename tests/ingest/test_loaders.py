"""Tests for ingest.loaders on real files written to tmp_path.

Every failure path is checked through the message an operator will read: it must
name the file and give the reason in Vietnamese and English.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import unicodedata
import zipfile
from pathlib import Path

import pytest

from ingest.loaders import SUPPORTED_SUFFIXES, LoadedText, LoadError, load_file
from ingest.models import TextSpan

MB = 1024 * 1024
LIMIT = 5 * MB
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

VI = "Nghệ An cử 935 cán bộ học thạc sỹ, hoà nhập, uỷ ban"
VI_2 = "Đào tạo, bồi dưỡng cán bộ, công chức: Quyết định số 163/QĐ-TTg của Thủ tướng Chính phủ."
VI_TEXT = f"{VI}\n\n{VI_2}\nỨng dụng ở Lạng Sơn, Điện Biên; tỷ lệ đạt 98,5%.\n"

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


# --- helpers -------------------------------------------------------------------------


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def expect_error(path: Path, vi: str, en: str, max_bytes: int = LIMIT) -> LoadError:
    """load_file must fail with a LoadError naming the file and both reasons."""
    with pytest.raises(LoadError) as info:
        load_file(path, max_bytes)
    err = info.value
    message = str(err)
    assert err.path == path
    assert message.startswith(f"{path}: "), message
    assert message == f"{path}: {err.reason_vi} ({err.reason_en})"
    assert vi in err.reason_vi, message
    assert en in err.reason_en, message
    return err


def cp1258_bytes(text: str) -> bytes:
    """Encode like a legacy Windows-1258 editor: base letters precomposed, tone marks combining.

    Python's cp1258 codec cannot encode precomposed letters such as "ệ" (the code page
    has no slot for them), so tone marks are split off first, as real cp1258 files do.
    """
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
            ch = base + "".join(c for c in decomposed if c in _TONE_MARKS)
        out.append(ch)
    return "".join(out).encode("cp1258")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --- plain text: encodings ---------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        pytest.param(VI_TEXT.encode("utf-8"), "utf-8", id="utf-8"),
        pytest.param(VI_TEXT.encode("utf-8-sig"), "utf-8-sig", id="utf-8-bom"),
        pytest.param(b"\xff\xfe" + VI_TEXT.encode("utf-16-le"), "utf-16", id="utf-16-le-bom"),
        pytest.param(b"\xfe\xff" + VI_TEXT.encode("utf-16-be"), "utf-16", id="utf-16-be-bom"),
        pytest.param(VI_TEXT.encode("utf-32"), "utf-32", id="utf-32-bom"),
        pytest.param(cp1258_bytes(VI_TEXT), "cp1258", id="cp1258"),
        pytest.param(nfc(VI_TEXT).encode("utf-16-le"), "utf-16-le", id="utf-16-le-no-bom"),
    ],
)
def test_text_encodings_decode_to_the_same_nfc_string(tmp_path: Path, encoded: bytes, encoding: str) -> None:
    path = write(tmp_path, "vanban.txt", encoded)
    loaded = load_file(path, LIMIT)
    assert loaded == LoadedText(text=nfc(VI_TEXT), kind="txt", encoding=encoding, title=None)
    assert "\ufeff" not in loaded.text


def test_cp1258_sample_really_is_legacy_bytes(tmp_path: Path) -> None:
    """Guard the fixture: the cp1258 file must not be UTF-8 and must carry combining tone marks."""
    data = cp1258_bytes(VI)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    raw = data.decode("cp1258")
    assert raw != VI and any(ch in _TONE_MARKS for ch in raw)
    loaded = load_file(write(tmp_path, "a.txt", data), LIMIT)
    assert loaded.text == VI
    assert loaded.encoding == "cp1258"


def test_cp1258_tolerates_a_stray_tone_mark(tmp_path: Path) -> None:
    """One tone mark typed after a consonant must not make a whole Vietnamese file undecodable."""
    data = cp1258_bytes(VI_TEXT) + b"Typo: n\xecg.\n"  # 0xEC is a combining acute in cp1258
    loaded = load_file(write(tmp_path, "typo.txt", data), LIMIT)
    assert loaded.encoding == "cp1258"
    assert loaded.text == nfc(VI_TEXT + "Typo: n\u0301g.\n")


def test_nul_in_path_is_a_load_error(tmp_path: Path) -> None:
    expect_error(tmp_path / "a\x00b.txt", "không truy cập được tệp", "cannot access file")


def test_decomposed_utf8_is_normalised_to_nfc(tmp_path: Path) -> None:
    path = write(tmp_path, "nfd.txt", unicodedata.normalize("NFD", VI).encode("utf-8"))
    assert load_file(path, LIMIT).text == VI


def test_newlines_normalised_and_nothing_else_changed(tmp_path: Path) -> None:
    raw = "  thụt lề\r\n\tcó tab\rdòng cuối  \r\n\r\n"
    path = write(tmp_path, "nl.txt", raw.encode("utf-8"))
    assert load_file(path, LIMIT).text == "  thụt lề\n\tcó tab\ndòng cuối  \n\n"


def test_cp1251_falls_back_to_charset_normalizer(tmp_path: Path) -> None:
    text = (
        "Обучение и повышение квалификации кадров государственной службы в регионах. "
        "Программа рассчитана на три года и включает практические занятия.\n"
    )
    loaded = load_file(write(tmp_path, "ru.txt", text.encode("cp1251")), LIMIT)
    assert loaded.text == text
    assert loaded.encoding == "cp1251"


def test_western_legacy_text_is_not_mistaken_for_vietnamese(tmp_path: Path) -> None:
    """German cp1252 bytes decode under cp1258 too, but ß/ö/ü are not Vietnamese letters."""
    text = "Größe und Übung für die Schüler, schöne Grüße aus Österreich.\n"
    loaded = load_file(write(tmp_path, "de.txt", text.encode("cp1252")), LIMIT)
    assert loaded.text == text
    assert loaded.encoding != "cp1258"


def test_undecodable_text_is_unknown_encoding(tmp_path: Path) -> None:
    rng = random.Random(1)
    data = bytes(rng.randrange(0x80, 0x100) for _ in range(2000))
    path = write(tmp_path, "lạ.txt", data)
    expect_error(path, "không nhận dạng được bảng mã", "unknown text encoding")


def test_markdown_title_is_first_h1_outside_code(tmp_path: Path) -> None:
    md = "```\n# không phải tiêu đề\n```\n\n## Mục phụ\n\n# Kế hoạch đào tạo năm 2024 #\n\nNội dung.\n"
    loaded = load_file(write(tmp_path, "kh.md", md.encode("utf-8")), LIMIT)
    assert loaded.kind == "md"
    assert loaded.title == "Kế hoạch đào tạo năm 2024"
    assert loaded.text == md


def test_plain_text_has_no_title(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "a.txt", b"# not a title in txt\n"), LIMIT).title is None


# --- plain text: bad input -----------------------------------------------------------


def test_random_binary_as_txt_is_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "rác.txt", random.Random(7).randbytes(4096))
    expect_error(path, "tệp nhị phân", "binary file")


def test_nul_bytes_in_md_are_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "x.md", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00header text")
    expect_error(path, "tệp nhị phân", "binary file")


def test_control_characters_without_nul_are_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "ctl.txt", bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 65]) * 200)
    expect_error(path, "tệp nhị phân", "binary file")


def test_whitespace_only_text_has_no_content(tmp_path: Path) -> None:
    path = write(tmp_path, "trắng.txt", b" \r\n\t\n  ")
    expect_error(path, "không có nội dung văn bản", "no text content")


# --- generic file checks -----------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "rỗng.txt", b""), "tệp rỗng", "empty file")


def test_file_over_max_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "lớn.txt", b"a" * (3 * MB))
    err = expect_error(
        path, "tệp quá lớn (3 MB > giới hạn 2 MB)", "file too large (3 MB > limit 2 MB)", 2 * MB
    )
    assert "tệp quá lớn" in str(err)


def test_size_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "big.pdf", b"%PDF-1.4\n" + b"0" * 5000)

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("file was opened although stat already showed it is too large")

    monkeypatch.setattr(Path, "open", boom)
    expect_error(path, "tệp quá lớn", "file too large", max_bytes=1000)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "trình-chiếu.pptx", b"PK\x03\x04whatever")
    expect_error(path, "định dạng không hỗ trợ", "unsupported file type")
    expect_error(write(tmp_path, "README", b"text"), "định dạng không hỗ trợ", "unsupported file type")


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "không-có.txt", "không tìm thấy tệp", "file not found")


def test_directory_is_not_a_regular_file(tmp_path: Path) -> None:
    folder = tmp_path / "thư-mục.txt"
    folder.mkdir()
    expect_error(folder, "không phải tệp thông thường", "not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    expect_error(fifo, "không phải tệp thông thường", "not a regular file")


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "A.TXT", VI.encode()), LIMIT).text == VI
    assert load_file(write(tmp_path, "b.HTM", f"<p>{VI}</p>".encode()), LIMIT).kind == "html"


def test_nonpositive_limit_is_a_caller_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_file(write(tmp_path, "a.txt", b"x"), 0)


def test_supported_suffixes() -> None:
    assert (
        frozenset(
            {".txt", ".md", ".docx", ".doc", ".pdf", ".html", ".htm", ".xlsx", ".xls"}
            | {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
        )
        == SUPPORTED_SUFFIXES
    )


def test_load_error_format_and_pickling(tmp_path: Path) -> None:
    err = LoadError(tmp_path / "a.pdf", "PDF có mật khẩu", "password-protected PDF")
    assert str(err) == f"{tmp_path / 'a.pdf'}: PDF có mật khẩu (password-protected PDF)"
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.path, clone.reason_vi, clone.reason_en, str(clone)) == (
        err.path,
        err.reason_vi,
        err.reason_en,
        str(err),
    )


# --- docx ---------------------------------------------------------------------------


def make_docx(path: Path, core_title: str | None = None) -> Path:
    import docx

    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    document.add_heading("Kế hoạch bồi dưỡng cán bộ năm 2024", level=1)
    document.add_paragraph(VI)
    document.add_paragraph("")  # empty paragraphs are skipped
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["Tỉnh", "Số lớp", "Học viên"], ["Nghệ An", "12", "935"], ["Lạng Sơn", "", ""]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(2, 1).merge(table.cell(2, 2)).text = "chưa báo cáo"
    document.add_heading("Kết quả", level=2)
    document.add_paragraph(VI_2)
    document.save(str(path))
    return path


DOCX_TEXT = (
    "Kế hoạch bồi dưỡng cán bộ năm 2024\n\n"
    f"{VI}\n\n"
    "Tỉnh | Số lớp | Học viên\nNghệ An | 12 | 935\nLạng Sơn | chưa báo cáo\n\n"
    "Kết quả\n\n"
    f"{VI_2}"
)


def test_docx_paragraphs_headings_and_table(tmp_path: Path) -> None:
    loaded = load_file(make_docx(tmp_path / "kế-hoạch.docx"), LIMIT)
    assert loaded == LoadedText(
        text=DOCX_TEXT, kind="docx", encoding=None, title="Kế hoạch bồi dưỡng cán bộ năm 2024"
    )


def test_docx_core_title_wins_over_heading(tmp_path: Path) -> None:
    loaded = load_file(make_docx(tmp_path / "a.docx", core_title="Tiêu đề trong thuộc tính"), LIMIT)
    assert loaded.title == "Tiêu đề trong thuộc tính"


def test_docx_random_bytes_are_corrupt(tmp_path: Path) -> None:
    path = write(tmp_path, "hỏng.docx", random.Random(3).randbytes(3000))
    expect_error(path, "tệp .docx hỏng", "corrupt docx")


def test_docx_truncated_is_corrupt(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx").read_bytes()
    path = write(tmp_path, "cụt.docx", good[: len(good) // 2])
    expect_error(path, "tệp .docx hỏng", "corrupt docx")


def test_zip_that_is_not_a_docx_is_corrupt(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "không phải Word")
    expect_error(write(tmp_path, "zip.docx", buf.getvalue()), "tệp .docx hỏng", "corrupt docx")


def test_docx_with_no_text_has_no_content(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "trống.docx"
    docx.Document().save(str(path))
    expect_error(path, "không có nội dung văn bản", "no text content")


# --- pdf ----------------------------------------------------------------------------


def make_pdf(pages: list[str], title: str | None = None, draw_only: bool = False) -> bytes:
    """A real PDF with embedded DejaVu Sans, so Vietnamese glyphs map back to Unicode."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev dependency) builds the test PDFs")
    if not DEJAVU.exists():
        pytest.skip(f"font {DEJAVU} not installed")
    pdf = fpdf.FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=12)
    if title is not None:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        if draw_only:
            pdf.rect(20, 20, 100, 60, style="F")  # a "scan": marks on the page, no text
        else:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def encrypt_pdf(data: bytes, user_password: str, owner_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password)  # RC4: no extra crypto lib
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_PAGE_2 = "Đào tạo, bồi dưỡng cán bộ, công chức:\nQuyết định số 163/QĐ-TTg của Thủ tướng Chính phủ.\nỨng dụng ở Điện Biên."


def test_pdf_vietnamese_text_and_title(tmp_path: Path) -> None:
    path = write(tmp_path, "tài-liệu.pdf", make_pdf([VI, PDF_PAGE_2], title="Tài liệu bồi dưỡng"))
    loaded = load_file(path, LIMIT)
    # pypdf gives back exactly what fpdf2 wrote with DejaVu Sans (lines that fit the page width).
    p2 = len(VI) + 2
    assert loaded == LoadedText(
        text=f"{VI}\n\n{PDF_PAGE_2}",
        kind="pdf",
        encoding=None,
        title="Tài liệu bồi dưỡng",
        spans=(TextSpan(0, len(VI), page=1), TextSpan(p2, p2 + len(PDF_PAGE_2), page=2)),
    )


def test_pdf_without_metadata_title(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "a.pdf", make_pdf([VI])), LIMIT).title is None


def test_pdf_with_user_password(tmp_path: Path) -> None:
    data = encrypt_pdf(make_pdf([VI]), user_password="bí-mật", owner_password="chủ")
    expect_error(write(tmp_path, "khoá.pdf", data), "PDF có mật khẩu", "password-protected PDF")


def test_pdf_with_only_owner_password_still_loads(tmp_path: Path) -> None:
    """Permission-only encryption (empty user password) must not block ingestion."""
    data = encrypt_pdf(make_pdf([VI]), user_password="", owner_password="chủ")
    assert load_file(write(tmp_path, "quyền.pdf", data), LIMIT).text == VI


def test_pdf_needing_a_missing_crypto_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AES-encrypted PDFs need the optional "cryptography" package; say so instead of "corrupt"."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    def no_aes(self: PdfReader, password: str) -> None:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", no_aes)
    data = encrypt_pdf(make_pdf([VI]), user_password="", owner_password="chủ")
    expect_error(write(tmp_path, "aes.pdf", data), "PDF được mã hoá", "encrypted PDF, cannot decrypt")


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf([VI, VI_2])
    path = write(tmp_path, "cụt.pdf", data[: len(data) // 2])
    expect_error(path, "tệp PDF hỏng hoặc bị cắt cụt", "corrupt or truncated PDF")


def test_garbage_named_pdf(tmp_path: Path) -> None:
    path = write(tmp_path, "giả.pdf", b"this is not a pdf at all\n" * 20)
    expect_error(path, "tệp PDF hỏng hoặc bị cắt cụt", "corrupt or truncated PDF")


def test_pdf_of_drawings_only_has_no_text_even_after_ocr(tmp_path: Path) -> None:
    """Pages without a text layer are OCR'd (tests/ingest/test_formats.py); marks that are no
    writing still give a clear error rather than an empty document."""
    path = write(tmp_path, "quét.pdf", make_pdf(["", ""], draw_only=True))
    expect_error(path, "PDF không có chữ đọc được, kể cả bằng OCR", "no readable text, not even by OCR")


# --- html ---------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html lang="vi"><head>
  <meta charset="utf-8">
  <title>Bồi dưỡng cán bộ | Cổng thông tin</title>
  <style>body { color: red } .x::after { content: "CSS-RÁC" }</style>
  <script>document.write("SCRIPT-RÁC"); alert("xss")</script>
</head>
<body>
  <header><a href="/">Trang chủ</a> <a href="/tin">Tin tức</a></header>
  <nav><ul><li>Giới thiệu</li><li>Liên hệ</li></ul></nav>
  <main>
    <article>
      <header><h1>Nghệ An cử cán bộ đi học</h1></header>
      <p>Nghệ An   cử
         935 cán bộ học <b>thạc sỹ</b>, hoà nhập,<br>uỷ ban.</p>
      <!-- ghi chú ẩn -->
      <ul><li>Lớp cao cấp</li><li>Lớp trung cấp</li></ul>
      <table><tr><th>Tỉnh</th><th>Số học viên</th></tr><tr><td>Nghệ An</td><td>935</td></tr></table>
      <pre>  giữ   nguyên
  khoảng trắng</pre>
      <div hidden>NỘI-DUNG-ẨN</div>
      <script type="application/ld+json">{"@type": "NewsArticle"}</script>
    </article>
    <aside>Tin liên quan: QUẢNG-CÁO</aside>
    <form><label>Tìm kiếm</label><input name="q"><button>Gửi</button></form>
  </main>
  <footer>© 2024 Cổng thông tin điện tử</footer>
  <noscript>Bật JavaScript</noscript>
</body></html>
"""

HTML_TEXT = (
    "Nghệ An cử cán bộ đi học\n\n"
    "Nghệ An cử 935 cán bộ học thạc sỹ, hoà nhập,\nuỷ ban.\n\n"
    "Lớp cao cấp\n\n"
    "Lớp trung cấp\n\n"
    "Tỉnh | Số học viên\n\n"
    "Nghệ An | 935\n\n"
    "  giữ   nguyên\n  khoảng trắng"
)


def test_html_keeps_only_article_text(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "bài.html", HTML_PAGE.encode("utf-8")), LIMIT)
    assert loaded == LoadedText(
        text=HTML_TEXT, kind="html", encoding="utf-8", title="Bồi dưỡng cán bộ | Cổng thông tin"
    )
    for junk in ("SCRIPT", "CSS", "xss", "Trang chủ", "Giới thiệu", "QUẢNG-CÁO", "Tìm kiếm", "©", "JavaScript",
                 "ghi chú", "NỘI-DUNG-ẨN", "NewsArticle"):  # fmt: skip
        assert junk not in loaded.text


def test_html_title_falls_back_to_h1(tmp_path: Path) -> None:
    page = "<html><body><h1>Quyết định 163</h1><p>Nội dung.</p></body></html>"
    loaded = load_file(write(tmp_path, "a.htm", page.encode("utf-8")), LIMIT)
    assert loaded.title == "Quyết định 163"
    assert loaded.text == "Quyết định 163\n\nNội dung."


def test_html_h1_title_ignores_site_logo_in_page_header(tmp_path: Path) -> None:
    page = "<body><header><h1>Cổng thông tin</h1></header><article><h1>Bài viết</h1><p>Nội dung.</p></article></body>"
    loaded = load_file(write(tmp_path, "logo.html", page.encode("utf-8")), LIMIT)
    assert loaded.title == "Bài viết"
    assert loaded.text == "Bài viết\n\nNội dung."


def test_html_declared_legacy_charset(tmp_path: Path) -> None:
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1258"></head><body><p>{VI}</p></body></html>'
    loaded = load_file(write(tmp_path, "cu.html", cp1258_bytes(page)), LIMIT)
    assert loaded.text == VI
    assert loaded.encoding == "windows-1258"


def test_html_without_text(tmp_path: Path) -> None:
    page = b"<html><head><script>var a = 1;</script></head><body><nav>menu</nav></body></html>"
    expect_error(write(tmp_path, "rỗng.html", page), "không có nội dung văn bản", "no text content")


def test_deeply_nested_html_does_not_overflow(tmp_path: Path) -> None:
    page = "<div>" * 3000 + "sâu" + "</div>" * 3000
    loaded = load_file(write(tmp_path, "sâu.html", page.encode("utf-8")), LIMIT)
    assert loaded.text == "sâu"


# --- robustness ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_only_load_error_escapes_on_mangled_input(tmp_path: Path, suffix: str) -> None:
    """Mangled versions of valid files either load or raise LoadError, nothing else."""
    rng = random.Random(suffix)
    if suffix == ".docx":
        seed = make_docx(tmp_path / "seed.docx").read_bytes()
    elif suffix == ".pdf":
        seed = make_pdf([VI, VI_2])
    elif suffix in (".html", ".htm"):
        seed = HTML_PAGE.encode("utf-8")
    else:
        seed = VI_TEXT.encode("utf-8")
    samples = [rng.randbytes(500), seed[:1], seed[: len(seed) // 3]]
    for _ in range(12):
        mangled = bytearray(seed)
        for _ in range(rng.randrange(1, 20)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        samples.append(bytes(mangled))
    for i, data in enumerate(samples):
        path = write(tmp_path, f"m{i}{suffix}", data)
        try:
            result = load_file(path, LIMIT)
        except LoadError as err:
            assert str(err).startswith(f"{path}: ")
        else:
            assert isinstance(result, LoadedText) and result.text.strip()
