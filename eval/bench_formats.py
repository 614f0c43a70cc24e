"""Benchmark of the office formats: OCR accuracy and speed on our own scans, .doc conversion time.

Owns the test scans (also used by ``tests/ingest/test_formats.py``): pages of Vietnamese text
written for this project (invented figures), drawn in DejaVu Serif 12 pt on an A4 page at 300 dpi,
turned slightly and speckled like a scanner's output, or degraded like a bad photocopy.

``python -m eval.bench_formats [--pages N] [--json OUT]`` prints, per scan quality, the character
error rate (Levenshtein distance / characters of the text drawn, whitespace normalised), Tesseract's
mean word confidence, and seconds per page — for an image (Tesseract alone) and for a scanned PDF
page (Ghostscript rendering + Tesseract, through ``ingest.loaders.load_file``) — and the time to
convert a .doc with LibreOffice. Numbers, never gates.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["PAGES", "cer", "poor_scan", "render_scan"]

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
DPI = 300

# Our own report-style pages (figures invented for the benchmark).
PAGES: list[list[str]] = [
    [
        "Báo cáo tổng kết công tác đào tạo, bồi dưỡng năm 2024",
        "Trong năm, Trường Chính trị tỉnh đã mở 17 lớp trung cấp lý luận chính trị",
        "cho 1.284 học viên; tỷ lệ học viên tốt nghiệp loại giỏi đạt 21,6%.",
        "Kinh phí thực hiện là 4,35 tỷ đồng, trong đó ngân sách tỉnh cấp 3,1 tỷ đồng.",
    ],
    [
        "Ủy ban nhân dân huyện cử 46 cán bộ đi học thạc sĩ ở nước ngoài;",
        "Sở Nội vụ phối hợp với Học viện Hành chính quốc gia tổ chức 9 lớp bồi dưỡng",
        "kiến thức quản lý nhà nước ngạch chuyên viên chính cho 612 công chức.",
        "Đến ngày 30/11/2024, 98,2% cán bộ cấp xã đạt chuẩn trình độ chuyên môn.",
    ],
    [
        "Phương hướng, nhiệm vụ năm 2025",
        "Tiếp tục đổi mới nội dung, chương trình bồi dưỡng theo vị trí việc làm;",
        "ưu tiên kỹ năng số, ngoại ngữ và tin học cho đội ngũ cán bộ trẻ.",
        "Dự kiến mở 21 lớp với khoảng 1.500 lượt học viên, kinh phí 5,2 tỷ đồng.",
    ],
]


def render_scan(lines: list[str], seed: int = 3, blur: float = 0.6, angle: float = 1.2) -> Any:
    """A 300 dpi A4 'scan' of ``lines``: DejaVu Serif 12 pt, turned ``angle`` degrees, speckled."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    image = Image.new("L", (int(8.27 * DPI), int(11.69 * DPI)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), int(12 / 72 * DPI))
    y = 300
    for line in lines:
        draw.text((250, y), line, font=font, fill=0)
        y += int(12 / 72 * DPI * 1.6)
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    rng = random.Random(seed)
    pixels: Any = image.load()
    for _ in range(image.width * image.height // 200):
        pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((0, 90, 180))
    return image.filter(ImageFilter.GaussianBlur(blur))


def poor_scan(lines: list[str], seed: int = 1) -> Any:
    """A bad photocopy of the scan: a third of the resolution, faded ink on grey paper, speckles."""
    from PIL import Image, ImageFilter

    image = render_scan(lines)
    image = image.resize((image.width // 3, image.height // 3), Image.Resampling.BILINEAR)
    image = image.point(lambda v: 110 + v * 0.45)
    rng = random.Random(seed)
    pixels: Any = image.load()
    for _ in range(int(image.width * image.height * 0.04)):
        pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((60, 230))
    return image.filter(ImageFilter.GaussianBlur(0.6))


def cer(expected: str, got: str) -> float:
    """Character error rate: Levenshtein distance / expected length (whitespace normalised)."""
    a, b = " ".join(expected.split()), " ".join(got.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(a), 1)


_QUALITIES = {
    "clean (1.2°, speckles)": lambda lines, i: render_scan(lines, seed=i),
    "turned 3°": lambda lines, i: render_scan(lines, seed=i, angle=3.0),
    "poor photocopy": lambda lines, i: poor_scan(lines, seed=i),
}


def bench_ocr(pages: int) -> list[dict[str, Any]]:
    from ingest.ocr import recognise

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for quality, make in _QUALITIES.items():
            cers, confs, secs = [], [], []
            for i in range(pages):
                lines = PAGES[i % len(PAGES)]
                png = work / f"p{i}.png"
                make(lines, i).save(png)
                t = time.perf_counter()
                text, conf = recognise(png, png, work)
                secs.append(time.perf_counter() - t)
                cers.append(cer("\n".join(lines), text))
                confs.append(conf)
            rows.append(
                {
                    "quality": quality,
                    "pages": pages,
                    "cer_mean": statistics.mean(cers),
                    "cer_max": max(cers),
                    "confidence_mean": statistics.mean(confs),
                    "s_per_page_mean": statistics.mean(secs),
                    "s_per_page_max": max(secs),
                }
            )
    return rows


def bench_scanned_pdf(pages: int) -> dict[str, Any]:
    """A PDF of ``pages`` scanned pages through ``load_file``: Ghostscript render + OCR per page."""
    from ingest.loaders import load_file

    images = [render_scan(PAGES[i % len(PAGES)], seed=i) for i in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=DPI, save_all=True, append_images=images[1:])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scan.pdf"
        path.write_bytes(buf.getvalue())
        t = time.perf_counter()
        loaded = load_file(path, 200 * 1024 * 1024)
        total = time.perf_counter() - t
    expected = "\n\n".join("\n".join(PAGES[i % len(PAGES)]) for i in range(pages))
    return {
        "pages": pages,
        "seconds": total,
        "s_per_page": total / pages,
        "cer": cer(expected, loaded.text),
        "confidence_min": min(sp.ocr_conf for sp in loaded.spans),
    }


def bench_doc(paragraphs: int = 120) -> dict[str, Any]:
    """LibreOffice converting a .doc of ``paragraphs`` paragraphs and a table (~10 pages)."""
    import docx

    from ingest.converters import run_converter
    from ingest.loaders import load_file

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        document = docx.Document()
        for i in range(paragraphs):
            document.add_paragraph(" ".join(PAGES[i % len(PAGES)]))
        table = document.add_table(rows=20, cols=4)
        for r in range(20):
            for c in range(4):
                table.cell(r, c).text = f"{r * 4 + c}"
        source = work / "bench.docx"
        document.save(str(source))
        run_converter(
            source,
            ["soffice", f"-env:UserInstallation={(work / 'p').as_uri()}", "--headless", "--convert-to", "doc",
             "--outdir", str(work), str(source)],
            "tạo .doc", "making the benchmark .doc",
        )  # fmt: skip
        t = time.perf_counter()
        loaded = load_file(work / "bench.doc", 200 * 1024 * 1024)
        return {"paragraphs": paragraphs, "seconds": time.perf_counter() - t, "chars": len(loaded.text)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=6, help="scanned pages per quality")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    ocr = bench_ocr(args.pages)
    pdf = bench_scanned_pdf(min(args.pages, 5))
    doc = bench_doc()
    print("| scan | pages | CER mean / max | Tesseract confidence | s/page mean / max |")
    print("|---|---|---|---|---|")
    for r in ocr:
        print(
            f"| {r['quality']} | {r['pages']} | {r['cer_mean']:.3f} / {r['cer_max']:.3f} "
            f"| {r['confidence_mean']:.1f} | {r['s_per_page_mean']:.2f} / {r['s_per_page_max']:.2f} |"
        )
    print(
        f"\nscanned PDF ({pdf['pages']} pages, Ghostscript + Tesseract): {pdf['seconds']:.1f} s, "
        f"{pdf['s_per_page']:.2f} s/page, CER {pdf['cer']:.3f}, lowest page confidence {pdf['confidence_min']:.1f}"
    )
    print(f".doc ({doc['paragraphs']} paragraphs + a table, LibreOffice): {doc['seconds']:.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"ocr": ocr, "scanned_pdf": pdf, "doc": doc}, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
