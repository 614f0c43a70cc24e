"""Generate a folder of malformed input (200+ bad files) plus a few good Vietnamese files.

Run: ``python -m eval.make_bad_corpus OUT_DIR [--seed 7] [--big-mb 50]``

Why: ingestion must survive whatever an office share holds — empty files, random bytes under
document names, broken zips posing as .docx, cut-off PDFs, a 50 MB text dump, legacy encodings,
names with Vietnamese letters, spaces and brackets — reporting one error per bad file and still
indexing every good one. ``tests/scale/test_bad_input.py`` ingests this folder.

Besides the files, ``OUT_DIR/.manifest.json`` (hidden, so ingestion skips it) lists every file
with what must happen to it:

* ``error``   — ingest reports exactly one error naming ``blame`` (the file, or its broken sidecar);
* ``indexed`` — the file is indexed; ``question``/``answer`` (when given) find it;
* ``skipped`` — not a supported type: silently ignored, neither error nor index;
* ``either``  — genuinely ambiguous bytes (e.g. mixed encodings): one error or indexed, never a crash.

Everything is deterministic for a given seed. The big file is sparse (``truncate``), so it costs
no disk and no time to write.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import unicodedata
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST = ".manifest.json"

# Sentences in the register of the corpus (none of them copied from it).
_VI = [
    "Năm 2024, huyện Mường Khương tổ chức 17 lớp bồi dưỡng kiến thức quản lý nhà nước cho 1.254 cán bộ cơ sở.",
    "Ban Tổ chức Huyện ủy phối hợp với Trung tâm Chính trị huyện xây dựng chương trình sát với thực tiễn.",
    "Học viên được trang bị kỹ năng soạn thảo văn bản, tiếp công dân và giải quyết khiếu nại ở cơ sở.",
    "Tỷ lệ học viên đạt loại khá, giỏi chiếm 68,5%, tăng 4,2% so với năm trước.",
    "Kinh phí tổ chức các lớp học từ nguồn ngân sách địa phương là 2,35 tỷ đồng.",
    "Việc đánh giá chất lượng sau đào tạo được thực hiện bằng phiếu khảo sát gửi cơ quan sử dụng cán bộ.",
    "Đội ngũ giảng viên kiêm chức được bồi dưỡng phương pháp giảng dạy tích cực, lấy người học làm trung tâm.",
    "Các xã vùng cao được ưu tiên mở lớp tại chỗ để cán bộ không phải đi lại xa.",
]

_GOOD_FACTS = [  # (file stem, text facts, question, expected answer fragment)
    (
        "Báo cáo bồi dưỡng Mường Khương 2024",
        _VI[0] + " " + _VI[1],
        "Huyện Mường Khương tổ chức bao nhiêu lớp bồi dưỡng năm 2024?",
        "17",
    ),
    ("kế hoạch [bản cuối] năm 2025", _VI[2] + " " + _VI[5], "", ""),
    ("tổng kết  hai   khoảng trắng", _VI[3] + " " + _VI[4], "", ""),
]


@dataclass
class Entry:
    name: str  # path relative to OUT_DIR (POSIX)
    kind: str
    expect: str  # error | indexed | skipped | either
    blame: str = ""  # the file an error line must name (default: the file itself)
    question: str = ""
    answer: str = ""


class Builder:
    def __init__(self, out: Path, seed: int) -> None:
        self.out = out
        self.rng = random.Random(seed)
        self.entries: list[Entry] = []

    def add(self, name: str, data: bytes, kind: str, expect: str, **kw: str) -> Path:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.entries.append(Entry(name, kind, expect, **kw))
        return path

    def random_bytes(self, n: int) -> bytes:
        """Random bytes that do not start like a BOM, a PDF or a zip (those are separate cases)."""
        while True:
            data = self.rng.randbytes(n)
            if not data.startswith((b"\xef\xbb", b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"%PDF", b"PK")):
                return data


# --- building blocks ------------------------------------------------------------------------------


def good_text(i: int) -> str:
    a, b = _VI[i % len(_VI)], _VI[(i + 3) % len(_VI)]
    return f"Thông tin bồi dưỡng cán bộ số {i}\n\n{a} {b}\n"


def cp1258_bytes(text: str) -> bytes:
    """Encode NFC Vietnamese as Windows-1258: base letters precomposed, tones as combining marks."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out += (base + "".join(c for c in parts if c in tones)).encode("cp1258")
    return bytes(out)


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(paragraphs[0], level=1)
    for p in paragraphs[1:]:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_bomb(inflated_mb: int) -> bytes:
    """A zip whose one member inflates to ``inflated_mb`` MiB of zeros (built without holding it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("word/document.xml", "w") as member:
        block = b"\0" * (1 << 20)
        for _ in range(inflated_mb):
            member.write(block)
    return buf.getvalue()


def pdf_bytes(lines: list[str] | None) -> bytes:
    """A minimal valid PDF with one page: ASCII text lines, or (``None``) only a drawn box."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    if lines is None:
        content = "0.5 g 72 600 200 100 re f"
    else:
        content = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({esc(s)}) '" for s in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{off:010d} 00000 n \n" for off in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


PDF_LINES = [
    "Bao cao ket qua dao tao, boi duong can bo nam 2024",
    "Huyen Bac Ha mo 9 lop trung cap ly luan chinh tri cho 412 hoc vien.",
]

SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html")
_NAME_STEMS = [
    "tài liệu",
    "Báo cáo tổng kết",
    "kế hoạch đào tạo",
    "Tờ trình số",
    "biên bản họp",
    "Công văn hỏa tốc",
    "danh sách học viên",
    "Quyết định cử cán bộ",
    "thông báo",
]


def vi_name(b: Builder, i: int, suffix: str, tag: str) -> str:
    """A Vietnamese file name with spaces (sometimes several, sometimes brackets)."""
    stem = _NAME_STEMS[i % len(_NAME_STEMS)]
    extra = ["", " (bản sao)", "  nháp", " [bản nháp]", " - lần 2"][i % 5]
    return f"{tag}/{stem}{extra} {i:03d}{suffix}"


# --- the corpus -----------------------------------------------------------------------------------


def build(out: Path, seed: int = 7, big_mb: int = 50) -> list[Entry]:
    """Write the bad/good corpus into ``out`` (created) and its manifest; returns the entries."""
    out.mkdir(parents=True, exist_ok=True)
    b = Builder(out, seed)

    # 1. zero-byte files under every supported suffix
    for i in range(30):
        sfx = SUFFIXES[i % len(SUFFIXES)]
        b.add(vi_name(b, i, sfx, "rỗng"), b"", "zero-bytes", "error")

    # 2. random bytes under document names
    for i in range(90):
        sfx = SUFFIXES[i % len(SUFFIXES)]
        b.add(
            vi_name(b, i, sfx, "ngẫu nhiên"),
            b.random_bytes(b.rng.randint(512, 64 * 1024)),
            "random-bytes",
            "error",
        )

    # 3. broken zips posing as .docx
    good_docx = docx_bytes(["Kế hoạch bồi dưỡng", *_VI[:4]])
    for frac in [0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]:
        b.add(f"docx hỏng/bị cắt {int(frac * 100):02d} phần trăm.docx", good_docx[: int(len(good_docx) * frac)],
              "docx-truncated", "error")  # fmt: skip
    for i in range(3):
        b.add(f"docx hỏng/zip không phải Word {i}.docx", zip_bytes({"ghi chú.txt": good_text(i).encode()}),
              "zip-not-docx", "error")  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(good_docx)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for i in range(3):
        broken = dict(members)
        broken["word/document.xml"] = b"<w:document><w:body><w:p>" + b.random_bytes(200) + b"</w:bod"
        b.add(f"docx hỏng/XML hỏng {i}.docx", zip_bytes(broken), "docx-bad-xml", "error")
    for i in range(3):
        stored = bytearray(zip_bytes(members, zipfile.ZIP_STORED))
        at = stored.find(b"<w:body>")  # flip bytes inside the stored document.xml: CRC mismatch
        stored[at : at + 8] = b"XXXXXXXX"
        b.add(f"docx hỏng/sai CRC {i}.docx", bytes(stored), "docx-bad-crc", "error")
    for i in range(5):
        b.add(
            f"docx hỏng/PK rồi rác {i}.docx",
            b"PK\x03\x04" + b.random_bytes(2000 + i),
            "docx-pk-garbage",
            "error",
        )
    for i in range(3):
        b.add(f"docx hỏng/văn bản đổi đuôi {i}.docx", good_text(i).encode(), "docx-is-text", "error")
    b.add("docx hỏng/bom giải nén.docx", zip_bomb(210), "docx-zip-bomb", "error")

    # 4. PDFs: cut off, fake, or without a text layer
    good_pdf = pdf_bytes(PDF_LINES)
    content_end = good_pdf.index(b"endstream")
    for i, frac in enumerate([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]):
        cut = min(int(len(good_pdf) * frac), content_end - 1)  # always inside the page's content
        b.add(f"pdf hỏng/cắt cụt {i} ({int(frac * 100)}%).pdf", good_pdf[:cut], "pdf-truncated", "error")
    for i in range(5):
        b.add(f"pdf hỏng/giả mạo {i}.pdf", b"%PDF-1.7\n" + b.random_bytes(3000), "pdf-garbage", "error")
    for i in range(3):
        b.add(f"pdf hỏng/bản quét không chữ {i}.pdf", pdf_bytes(None), "pdf-no-text", "error")
    b.add("pdf hỏng/chỉ có tiêu đề.pdf", b"%PDF-1.4\n%%EOF\n", "pdf-header-only", "error")

    # 5. too large: a sparse 50 MB text file and one just over the default 20 MB limit
    for name, size in [
        (f"quá lớn/nhật ký {big_mb} MB.txt", big_mb * 1024 * 1024),
        ("quá lớn/vừa quá 20 MB.txt", 20 * 1024 * 1024 + 1),
    ]:
        path = b.add(name, b"", "too-large", "error")
        with path.open("r+b") as f:
            f.truncate(size)

    # 6. text that is not content
    for i in range(6):
        b.add(
            f"văn bản lỗi/chỉ khoảng trắng {i}{'.txt' if i % 2 else '.md'}",
            b" \n\t\n   \n" * (i + 1),
            "whitespace",
            "error",
        )
    for i in range(4):
        b.add(
            f"văn bản lỗi/chỉ có chữ chia sẻ {i}.txt",
            "Chia sẻ\nBình luận\nIn bài\n\nPhản hồi\n".encode(),
            "boilerplate-only",
            "error",
        )
    for i in range(6):
        b.add(
            f"văn bản lỗi/nhị phân có NUL {i}.txt",
            b"\x7fELF\x02\x01\x01\x00" + b.random_bytes(4000) + b"\x00" * 64,
            "nul-binary",
            "error",
        )
    for i in range(5):
        data = (
            "Báo cáo " + "".join(chr(b.rng.choice([1, 2, 3, 4, 5, 6, 14, 15, 16])) for _ in range(300))
        ).encode()
        b.add(f"văn bản lỗi/ký tự điều khiển {i}.txt", data, "control-chars", "error")
    for i in range(5):
        html = "<html><head><title>x</title><script>var a = 1; alert('x');</script></head><body><script>document.write('y')</script></body></html>"
        b.add(f"văn bản lỗi/trang chỉ có script {i}.html", html.encode(), "html-script-only", "error")
    for i in range(3):
        data = "\ufeff".encode("utf-16-le") + good_text(i).encode("utf-16-le") + b"\x41"  # odd length
        b.add(f"văn bản lỗi/UTF-16 lẻ byte {i}.txt", data, "utf16-odd", "error")
    for i in range(3):
        b.add(
            f"văn bản lỗi/BOM rồi nhị phân {i}.txt",
            b"\xef\xbb\xbf" + b"\x00\x01\x02\x03" * 200,
            "bom-binary",
            "error",
        )
    for i in range(2):
        os.mkfifo(b.out / "văn bản lỗi" / f"ống FIFO {i}.txt")
        b.entries.append(Entry(f"văn bản lỗi/ống FIFO {i}.txt", "fifo", "error"))
    for i in range(2):
        link = b.out / "văn bản lỗi" / f"liên kết hỏng {i}.txt"
        link.symlink_to(b.out / "không tồn tại" / f"{i}.txt")
        b.entries.append(Entry(link.relative_to(b.out).as_posix(), "dangling-symlink", "error"))
    for i, side in enumerate(["title: [chưa đóng\n", "- một\n- danh sách\n", "title: 'a'\n\tprovince: x\n"]):
        name = f"siêu dữ liệu hỏng/tài liệu tốt {i}"
        b.add(f"{name}.meta.yaml", side.encode(), "sidecar", "skipped")
        b.add(f"{name}.txt", good_text(40 + i).encode(), "bad-sidecar", "error", blame=f"{name}.meta.yaml")

    # 7. unsupported types: ignored without an error
    b.add("không hỗ trợ/trình chiếu.pptx", zip_bytes({"x": b"1"}), "unsupported", "skipped")
    # a spreadsheet is read now (ingest/spreadsheet.py): a zip that is no workbook is one error line
    b.add("bảng tính hỏng/bảng tính.xlsx", zip_bytes({"x": b"1"}), "xlsx-not-a-workbook", "error")
    b.add("không hỗ trợ/chương trình.exe", b"MZ" + b.random_bytes(500), "unsupported", "skipped")
    b.add("không hỗ trợ/không đuôi", good_text(1).encode(), "unsupported", "skipped")

    # 8. ambiguous: half UTF-8, half Windows-1258
    for i in range(4):
        data = good_text(i).encode() + cp1258_bytes(good_text(i + 1))
        b.add(f"lẫn bảng mã/nửa UTF-8 nửa CP1258 {i}.txt", data, "mixed-encoding", "either")

    # 9. good files: several encodings and formats, Vietnamese names with spaces
    for stem, text, question, answer in _GOOD_FACTS:
        b.add(
            f"tốt/{stem}.txt",
            f"{stem}\n\n{text}\n".encode(),
            "good-utf8",
            "indexed",
            question=question,
            answer=answer,
        )
    b.add("tốt/có BOM UTF-8 một.txt", b"\xef\xbb\xbf" + good_text(1).encode(), "good-utf8-bom", "indexed")
    b.add(
        "tốt/có BOM UTF-8 hai.md",
        b"\xef\xbb\xbf" + ("# Ghi chép\n\n" + good_text(2)).encode(),
        "good-utf8-bom",
        "indexed",
    )
    b.add("tốt/UTF-16 LE có BOM.txt", good_text(3).encode("utf-16"), "good-utf16", "indexed")
    b.add("tốt/UTF-16 BE có BOM.txt", b"\xfe\xff" + good_text(4).encode("utf-16-be"), "good-utf16", "indexed")
    b.add("tốt/UTF-16 LE không BOM.txt", good_text(5).encode("utf-16-le"), "good-utf16", "indexed")
    b.add("tốt/Windows 1258 một.txt", cp1258_bytes(good_text(6)), "good-cp1258", "indexed")
    b.add("tốt/Windows 1258 hai.txt", cp1258_bytes(good_text(7)), "good-cp1258", "indexed")
    b.add(
        "tốt/trang web có script.html",
        f"<html><head><title>Tin bồi dưỡng</title><script>alert(1)</script></head>"
        f"<body><p>{good_text(8)}</p></body></html>".encode(),
        "good-html",
        "indexed",
    )
    b.add(
        "tốt/Kế hoạch Word.docx",
        docx_bytes(["Kế hoạch bồi dưỡng cán bộ", _VI[6], _VI[7]]),
        "good-docx",
        "indexed",
    )
    b.add("tốt/báo cáo PDF.pdf", pdf_bytes(PDF_LINES), "good-pdf", "indexed")
    nfd = unicodedata.normalize("NFD", "tốt/tên tách dấu NFD.txt")
    b.add(nfd, good_text(9).encode(), "good-nfd-name", "indexed")

    (out / MANIFEST).write_text(
        json.dumps({"seed": seed, "entries": [asdict(e) for e in b.entries]}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return b.entries


def load_manifest(out: Path) -> list[Entry]:
    data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    return [Entry(**e) for e in data["entries"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.make_bad_corpus", description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="thư mục đích (tạo mới) / output folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--big-mb", type=int, default=50, help="cỡ tệp văn bản quá lớn (MB, thưa)")
    args = ap.parse_args(argv)
    entries = build(args.out, args.seed, args.big_mb)
    counts = Counter(e.expect for e in entries)
    print(
        f"{len(entries)} tệp/files in {args.out}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + f"; manifest {args.out / MANIFEST}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["MANIFEST", "Entry", "build", "cp1258_bytes", "load_manifest", "pdf_bytes"]
