"""Untrusted files are parsed in a child process under limits (``ingest.sandbox``): real files,
real child processes, real limits. Bombs are refused by name with a bilingual reason; good
files come back exactly as the in-process loader reads them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest.loaders import LoadError, load_file
from ingest.sandbox import SandboxLimits, load_untrusted

MB = 1024 * 1024
BODY = (
    "Báo cáo bồi dưỡng cán bộ xã Tân Phong năm 2022. Xã đã cử 14 cán bộ đi học trung cấp "
    "lý luận chính trị và mở 3 lớp bồi dưỡng kỹ năng cho 120 học viên."
)

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
DOC_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
DOC_TAIL = "</w:body></w:document>"


def write_docx(path: Path, paragraphs: int, text: str = BODY) -> Path:
    """A real .docx whose document.xml holds ``paragraphs`` copies of one paragraph (streamed)."""
    para = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as out:
            out.write(DOC_HEAD.encode())
            block = para * 2000
            left = paragraphs
            while left > 0:
                n = min(left, 2000)
                out.write(block if n == 2000 else para * n)
                left -= n
            out.write(DOC_TAIL.encode())
    return path


def write_pdf(
    path: Path, declared_pages: int, kids: int = 1, text: str = "Bao cao boi duong can bo 2022"
) -> Path:
    """A hand-written PDF: one page object, listed ``kids`` times, with /Count ``declared_pages``."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        (f"<< /Type /Pages /Count {declared_pages} /Kids [" + " ".join(["3 0 R"] * kids) + "] >>").encode(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def test_good_files_read_the_same_in_the_child(tmp_path: Path) -> None:
    docx = write_docx(tmp_path / "báo cáo.docx", 3)
    pdf = write_pdf(tmp_path / "kế hoạch.pdf", 1)
    for path in (docx, pdf):
        assert load_untrusted(path, 20 * MB) == load_file(path, 20 * MB)
    assert "14 cán bộ" in load_untrusted(docx, 20 * MB).text


def test_text_files_stay_in_process_and_keep_their_errors(tmp_path: Path) -> None:
    good = tmp_path / "ghi chú.txt"
    good.write_text(BODY, encoding="utf-8")
    assert load_untrusted(good, MB).text == BODY
    empty = tmp_path / "rỗng.md"
    empty.write_bytes(b"")
    with pytest.raises(LoadError) as e:
        load_untrusted(empty, MB)
    assert str(e.value).startswith(str(empty))


def test_inflation_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    # ~60 MB of XML in a zip of well under 1 MB; the limit here is 40 MB
    bomb = write_docx(tmp_path / "bom.docx", 320_000)
    assert bomb.stat().st_size < MB
    limits = SandboxLimits(max_inflated_mb=40)
    with pytest.raises(LoadError) as e:
        load_untrusted(bomb, 20 * MB, limits)
    msg = str(e.value)
    assert msg.startswith(f"{bomb}: ") and "giải nén" in msg and "decompression bomb" in msg


def test_page_bomb_is_refused_by_its_declared_page_count(tmp_path: Path) -> None:
    bomb = write_pdf(tmp_path / "trang.pdf", declared_pages=99_000, kids=99_000)
    with pytest.raises(LoadError) as e:
        load_untrusted(bomb, 20 * MB, SandboxLimits(max_pages=2000))
    msg = str(e.value)
    assert msg.startswith(f"{bomb}: ") and "99000" in msg and "page" in msg


def test_memory_limit_refuses_a_file_that_parses_too_big(tmp_path: Path) -> None:
    """Within the declared-size limit, but parsing it needs more memory than allowed."""
    big = write_docx(tmp_path / "lớn.docx", 250_000)  # ~47 MB of XML: an lxml tree of several times that
    limits = SandboxLimits(memory_mb=160, max_inflated_mb=500)
    with pytest.raises(LoadError) as e:
        load_untrusted(big, 20 * MB, limits)
    msg = str(e.value)
    assert msg.startswith(f"{big}: ") and "bộ nhớ" in msg and "memory" in msg, msg


def test_wall_clock_limit_kills_the_child(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "chậm.pdf", 1)
    with pytest.raises(LoadError) as e:
        load_untrusted(pdf, 20 * MB, SandboxLimits(wall_s=0.01))  # shorter than the child's start-up
    msg = str(e.value)
    assert msg.startswith(f"{pdf}: ") and "giây" in msg and "longer than" in msg
