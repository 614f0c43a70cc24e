"""OCR of scanned pages: PDF pages without a text layer, and .png/.jpg/.tif images.

Owns page rendering (Ghostscript, 300 dpi greyscale), recognition (Tesseract with its
Vietnamese model, Debian ``tesseract-ocr`` + ``tesseract-ocr-vie``) and the per-page
confidence: the mean of Tesseract's word confidences (0-100), kept with each page so a
passage read from a poor scan can carry a warning.

Tesseract is called directly (TSV output: words with their confidence and their block,
paragraph and line), not through ocrmypdf or pytesseract, because ingest needs the per-word
confidence and the page's own text, and every converter runs under
:func:`ingest.converters.run_converter`'s time and memory limits.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from ingest.converters import ConverterLimits, require_tool, run_converter
from ingest.load_errors import LoadError, describe
from ingest.models import TextSpan

__all__ = ["DPI", "MAX_OCR_PAGES", "MAX_PAGE_PIXELS", "ocr_image_file", "ocr_pdf_pages", "recognise"]

# Tesseract reads body text (10-14 pt) best at 300 dpi; 200 dpi is faster but loses diacritics.
DPI = 300
# At ~2-6 s a page on one busy core, 100 scanned pages is up to ~10 minutes for one file;
# a larger scan should be split (or OCR'd beforehand) rather than hold the ingest queue.
MAX_OCR_PAGES = 100
# An A3 page at 600 dpi is ~70 Mpx; larger is no document page, but a decompression bomb.
MAX_PAGE_PIXELS = 80_000_000
LANGUAGE = "vie"
_LIMITS = ConverterLimits(timeout_s=120.0)

PageFn = Callable[[int, int], None]


def recognise(path: Path, image: Path, workdir: Path) -> tuple[str, float]:
    """(text, mean word confidence 0-100) of one page image; a page scanned sideways or upside
    down (poor first reading) is turned as Tesseract's orientation detection says and read again."""
    text, conf = _tesseract(path, image, workdir)
    if conf >= ORIENTATION_CHECK_BELOW:
        return text, conf
    turn = _orientation(path, image, workdir)
    if turn == 0:
        return text, conf
    from PIL import Image

    turned = image.with_name(f"{image.stem}-turned.png")
    with Image.open(image) as im:
        im.rotate(-turn, expand=True).save(turned)  # Tesseract's "Rotate: 90" means 90° clockwise
    text2, conf2 = _tesseract(path, turned, workdir)
    turned.unlink()
    return (text2, conf2) if conf2 > conf else (text, conf)


# A page read with a lower mean confidence than this may be turned: check its orientation (~1-7 s).
ORIENTATION_CHECK_BELOW = 60.0
_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.M)


def _tesseract(path: Path, image: Path, workdir: Path) -> tuple[str, float]:
    tesseract = require_tool(path, "tesseract", "tesseract-ocr tesseract-ocr-vie")
    proc = run_converter(
        path,
        [tesseract, str(image), "stdout", "-l", LANGUAGE, "--dpi", str(DPI), "--psm", "3", "tsv"],
        "nhận dạng chữ (OCR)",
        "OCR (tesseract)",
        _LIMITS,
        cwd=workdir,
    )
    return parse_tsv(proc.stdout.decode("utf-8", "replace"))


def _orientation(path: Path, image: Path, workdir: Path) -> int:
    """Degrees (0/90/180/270) Tesseract's OSD says the page must turn clockwise; 0 when unsure."""
    tesseract = require_tool(path, "tesseract", "tesseract-ocr")
    try:
        proc = run_converter(
            path, [tesseract, str(image), "stdout", "--psm", "0", "-l", "osd"], "xác định chiều trang",
            "page orientation (tesseract OSD)", _LIMITS, cwd=workdir,
        )  # fmt: skip
    except LoadError:  # too few characters to tell, or no OSD model: read the page as it is
        return 0
    m = _ROTATE.search(proc.stdout.decode("utf-8", "replace"))
    return int(m.group(1)) % 360 if m else 0


_SENTENCE_END = ".!?…:;"


def parse_tsv(tsv: str) -> tuple[str, float]:
    """Text and mean word confidence from Tesseract's TSV.

    Words are joined by spaces. A printed line that wraps a sentence (it does not end in
    sentence punctuation and the next line starts with a lowercase letter or a digit — a
    Vietnamese sentence never starts lowercase) is joined to the next with a space, so the
    chunker sees the sentence whole; other lines end with a newline; text blocks are
    separated by a blank line.
    """
    blocks: list[list[str]] = []
    block_key: tuple[str, str] | None = None
    line_key: tuple[str, ...] | None = None
    confs: list[float] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        word = (row.get("text") or "").strip()
        try:
            conf = float(row.get("conf") or -1)
        except ValueError:
            conf = -1.0
        if not word or conf < 0:
            continue
        confs.append(conf)
        key = (row["page_num"], row["block_num"])
        if key != block_key:
            blocks.append([])
            block_key, line_key = key, None
        this_line = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        if this_line != line_key:
            blocks[-1].append(word)
            line_key = this_line
        else:
            blocks[-1][-1] += " " + word
    paragraphs: list[str] = []
    for lines in blocks:
        out = lines[0]
        for line in lines[1:]:
            wraps = out[-1] not in _SENTENCE_END and (line[0].islower() or line[0].isdigit())
            out += (" " if wraps else "\n") + line
        paragraphs.append(out)
    return "\n\n".join(paragraphs), (sum(confs) / len(confs) if confs else 0.0)


def _too_many_pages(path: Path, n: int) -> LoadError:
    return LoadError(
        path,
        f"quá nhiều trang cần OCR ({n} > {MAX_OCR_PAGES}); hãy tách tệp",
        f"too many pages to OCR ({n} > {MAX_OCR_PAGES}); split the file",
    )


def _too_many_pixels(path: Path, page: int, pixels: int) -> LoadError:
    mp = f"{pixels / 1e6:.0f} Mpx"
    return LoadError(
        path,
        f"trang {page} quá lớn để OCR ({mp} > {MAX_PAGE_PIXELS // 1_000_000} Mpx)",
        f"page {page} too large to OCR ({mp} > {MAX_PAGE_PIXELS // 1_000_000} Mpx)",
    )


def ocr_pdf_pages(
    path: Path, data: bytes, pages: list[int], total: int, on_page: PageFn | None = None
) -> dict[int, tuple[str, float]]:
    """OCR the given 1-based pages of a PDF: {page: (text, confidence)}.

    Each page is rendered by Ghostscript (``-dSAFER``) to a 300 dpi greyscale PNG, then read.
    """
    from pypdf import PdfReader

    if len(pages) > MAX_OCR_PAGES:
        raise _too_many_pages(path, len(pages))
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    for number in pages:
        box = reader.pages[number - 1].mediabox
        pixels = int(abs(float(box.width)) / 72 * DPI) * int(abs(float(box.height)) / 72 * DPI)
        if pixels > MAX_PAGE_PIXELS:
            raise _too_many_pixels(path, number, pixels)
    gs = require_tool(path, "gs", "ghostscript")
    out: dict[int, tuple[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="dtbd-ocr-") as tmp:
        work = Path(tmp)
        pdf = work / "in.pdf"
        pdf.write_bytes(data)
        for done, number in enumerate(pages):
            if on_page:
                on_page(done, len(pages))
            png = work / f"page-{number}.png"
            run_converter(
                path,
                [
                    gs,
                    "-q",
                    "-dSAFER",
                    "-dBATCH",
                    "-dNOPAUSE",
                    "-dNOPROMPT",
                    "-sDEVICE=pnggray",
                    f"-r{DPI}",
                    "-dTextAlphaBits=4",
                    "-dGraphicsAlphaBits=4",
                    f"-dFirstPage={number}",
                    f"-dLastPage={number}",
                    f"-sOutputFile={png}",
                    str(pdf),
                ],  # fmt: skip
                f"dựng ảnh trang {number} của PDF",
                f"rendering PDF page {number} (ghostscript)",
                _LIMITS,
                cwd=work,
            )
            if not png.exists():
                raise LoadError(path, f"không dựng được ảnh trang {number}", f"page {number} did not render")
            out[number] = recognise(path, png, work)
            png.unlink()
        if on_page:
            on_page(len(pages), len(pages))
    del total  # the caller's page count; progress counts the pages that need OCR
    return out


def ocr_image_file(path: Path, data: bytes, on_page: PageFn | None = None) -> list[tuple[str, TextSpan]]:
    """OCR a .png/.jpg/.tif: one page per frame (multi-page TIFF), each with its confidence."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the pixel check is ours
            image = Image.open(io.BytesIO(data))  # reads the header only
        with image:
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_OCR_PAGES:
                raise _too_many_pages(path, frames)
            with tempfile.TemporaryDirectory(prefix="dtbd-ocr-") as tmp:
                work = Path(tmp)
                pngs: list[Path] = []
                for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                    width, height = frame.size
                    if width * height > MAX_PAGE_PIXELS:
                        raise _too_many_pixels(path, number, width * height)
                    png = work / f"page-{number}.png"
                    frame.convert("L").save(png, format="PNG")
                    pngs.append(png)
                out: list[tuple[str, TextSpan]] = []
                for done, png in enumerate(pngs):
                    if on_page:
                        on_page(done, len(pngs))
                    text, conf = recognise(path, png, work)
                    out.append((text, TextSpan(0, 0, page=done + 1, ocr_conf=conf)))
                if on_page:
                    on_page(len(pngs), len(pngs))
                return out
    except LoadError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard fired before ours could
        raise LoadError(path, "ảnh quá lớn để OCR", f"image too large to OCR: {describe(exc)}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise LoadError(
            path, "tệp ảnh hỏng hoặc không đọc được", f"corrupt or unreadable image: {describe(exc)}"
        ) from exc
