"""Turn one source file (.txt, .md, .docx, .pdf, .html) into plain Unicode text.

Everything that can go wrong with a file surfaces as :class:`LoadError` carrying
a bilingual reason, so ingestion can skip a bad file, tell the operator why in
Vietnamese and English, and carry on with the rest of the corpus.
"""

from __future__ import annotations

import io
import re
import stat
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import legacy_encoding
from ingest.load_errors import LoadError, describe, fmt_mb
from ingest.models import TextSpan

__all__ = ["SUPPORTED_SUFFIXES", "LoadError", "LoadedText", "PageFn", "load_file"]

# THE seam: one row per suffix. Each kind's extraction is below or in its own module
# (ingest/word97.py, ingest/ocr.py, ingest/spreadsheet.py).
_KIND_BY_SUFFIX = {
    ".txt": "txt",
    ".md": "md",
    ".docx": "docx",
    ".doc": "doc",  # Word 97-2003, converted by LibreOffice (ingest/word97.py)
    ".pdf": "pdf",  # text layer per page; pages without one are OCR'd (ingest/ocr.py)
    ".png": "image",  # OCR (ingest/ocr.py)
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",  # multi-page TIFF: one page per frame
    ".tiff": "image",
    ".xlsx": "xlsx",  # each sheet a table (ingest/spreadsheet.py)
    ".xls": "xls",
    ".html": "html",
    ".htm": "html",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_KIND_BY_SUFFIX)

PageFn = Callable[[int, int], None]  # (pages done, pages in the file): OCR progress

# Share of C0/C1 control characters (tab, newlines, form feed excluded) above which
# content is treated as binary.  Real text has ~0; random bytes have ~11%.
_MAX_CONTROL_SHARE = 0.05
# Of the non-ASCII letters in a cp1258 decoding, at least this share must belong to
# the Vietnamese alphabet for the decoding to be believed.
_MIN_VIETNAMESE_SHARE = 0.9
# A .docx is a zip; refuse archives that inflate far beyond the on-disk limit.
_DOCX_INFLATE_FACTOR = 20
_DOCX_MIN_INFLATE_LIMIT = 200 * 1024 * 1024

_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])  # \t\n\v\f\r are text
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # category Cc minus whitespace
_NON_ASCII = re.compile("[^\x00-\x7f]")
_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its LE BOM begins with the UTF-16 LE BOM.
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _vietnamese_letters() -> frozenset[str]:
    """The precomposed Vietnamese letters (vowels x tones, plus đ/Đ), for plausibility checks."""
    letters = {"đ", "Đ"}
    for vowel in "aăâeêioôơuưy":
        for base in (vowel, vowel.upper()):
            for tone in ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"):
                letters.add(unicodedata.normalize("NFC", base + tone))
    return frozenset(letters)


_VIETNAMESE_LETTERS = _vietnamese_letters()


@dataclass(frozen=True)
class LoadedText:
    """Text extracted from one file, normalised so downstream code sees one form."""

    text: str  # NFC, "\r\n"/"\r" turned into "\n"; nothing else changed
    kind: str  # a value of _KIND_BY_SUFFIX: "txt" | "md" | "docx" | "doc" | "pdf" | "image" | "xlsx" | ...
    # Python codec that decodes the raw bytes (txt/md/html), or "tcvn3"/"vni" (legacy font encodings,
    # "utf-8/tcvn3" when such text was saved as UTF-8); None for the binary formats
    encoding: str | None
    title: str | None  # title stored in the file itself, if any
    spans: tuple[TextSpan, ...] = ()  # pages (pdf, image) or sheet rows (xlsx/xls) in ``text``


def load_file(path: Path, max_bytes: int, on_page: PageFn | None = None) -> LoadedText:
    """Load ``path`` as text, or raise :class:`LoadError` (and only that) explaining why not.

    The size is checked with ``stat`` before anything is read, and at most
    ``max_bytes + 1`` bytes are ever read, so an oversized file costs nothing.
    ``max_bytes`` must be positive (a non-positive limit is a caller bug: ValueError).
    ``on_page(done, total)`` is called as pages of a PDF or image are read (OCR takes seconds
    a page), so a caller can show progress inside one file.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    path = Path(path)
    data, kind = _read_checked(path, max_bytes)
    try:
        if kind in ("txt", "md"):
            text, encoding = _decode_text(path, data)
            title = _markdown_title(text) if kind == "md" else None
            return _finish(path, text, kind, encoding, title)
        if kind == "docx":
            text, title = _extract_docx(path, data, max_bytes)
            return _finish(path, text, kind, None, title)
        if kind == "doc":
            from ingest.word97 import doc_to_docx

            text, title = _extract_docx(path, doc_to_docx(path, data, max_bytes), max_bytes)
            return _finish(path, text, kind, None, title)
        if kind == "pdf":
            pages, title = _extract_pdf(path, data, on_page)
            return _finish_pieces(path, pages, kind, title)
        if kind == "image":
            from ingest.ocr import ocr_image_file

            return _finish_pieces(path, ocr_image_file(path, data, on_page), kind, None)
        if kind in ("xlsx", "xls"):
            from ingest.spreadsheet import read_workbook

            pieces, title = read_workbook(path, data, kind, max_bytes)
            return _finish_pieces(path, pieces, kind, title)
        text, encoding, title = _extract_html(path, data)
        return _finish(path, text, kind, encoding, title)
    except LoadError:
        raise
    except MemoryError as exc:
        raise LoadError(
            path, "tệp cần quá nhiều bộ nhớ để đọc", "file needs too much memory to read"
        ) from exc
    except Exception as exc:  # a library failed in a way we did not foresee
        raise LoadError(path, "lỗi khi đọc nội dung tệp", f"cannot extract text: {describe(exc)}") from exc


# --- file access ---------------------------------------------------------------------


def _read_checked(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """Stat, validate and read the file; cheap checks first so bad files cost little."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise LoadError(path, "không tìm thấy tệp", "file not found") from exc
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise LoadError(path, "không truy cập được tệp", f"cannot access file: {describe(exc)}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(path, "không phải tệp thông thường", "not a regular file")
    suffix = path.suffix.lower()
    kind = _KIND_BY_SUFFIX.get(suffix)
    if kind is None:
        shown = suffix or "(không có đuôi / no suffix)"
        raise LoadError(path, f"định dạng không hỗ trợ: {shown}", f"unsupported file type: {shown}")
    if st.st_size == 0:
        raise LoadError(path, "tệp rỗng", "empty file")
    if st.st_size > max_bytes:
        raise _too_large(path, st.st_size, max_bytes)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise LoadError(path, "không đọc được tệp", f"cannot read file: {describe(exc)}") from exc
    if len(data) > max_bytes:  # grew between stat and read
        raise _too_large(path, len(data), max_bytes)
    if not data:  # shrank between stat and read
        raise LoadError(path, "tệp rỗng", "empty file")
    return data, kind


def _too_large(path: Path, size: int, max_bytes: int) -> LoadError:
    s, m = fmt_mb(size), fmt_mb(max_bytes)
    return LoadError(path, f"tệp quá lớn ({s} > giới hạn {m})", f"file too large ({s} > limit {m})")


def _finish(path: Path, text: str, kind: str, encoding: str | None, title: str | None) -> LoadedText:
    """Apply the one normalisation every kind shares and refuse empty results."""
    text = _normalise(text)
    if not text.strip():
        raise LoadError(path, "không có nội dung văn bản", "no text content")
    if title is not None:
        title = " ".join(_normalise(title).split()) or None
    return LoadedText(text=text, kind=kind, encoding=encoding, title=title)


def _finish_pieces(
    path: Path, pieces: list[tuple[str, TextSpan]], kind: str, title: str | None
) -> LoadedText:
    """Join located pieces (pages, sheet rows) with blank lines, each span re-based onto the text.

    Each piece is normalised on its own first, so the offsets computed here are offsets into the
    final text (joining NFC pieces with "\n\n" is already NFC).
    """
    parts: list[str] = []
    spans: list[TextSpan] = []
    pos = 0
    for raw, where in pieces:
        text = _normalise(raw).strip("\n")
        if not text.strip():
            continue
        if parts:
            parts.append("\n\n")
            pos += 2
        parts.append(text)
        spans.append(
            TextSpan(
                start=pos,
                end=pos + len(text),
                page=where.page,
                ocr_conf=where.ocr_conf,
                sheet=where.sheet,
                cells=where.cells,
            )  # fmt: skip
        )
        pos += len(text)
    loaded = _finish(path, "".join(parts), kind, None, title)
    assert len(loaded.text) == pos  # _finish's normalisation is a no-op on normalised pieces
    return LoadedText(text=loaded.text, kind=kind, encoding=None, title=loaded.title, spans=tuple(spans))


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


# --- plain text: encoding detection ----------------------------------------------------


def _decode_text(path: Path, data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode legacy or modern text bytes; returns (text, Python codec name).

    Order matters: a BOM is authoritative; strict UTF-8 almost never succeeds by
    accident on legacy bytes; then an encoding declared inside the file (HTML
    ``<meta charset>``); then Windows-1258 if the result reads as Vietnamese;
    charset-normalizer only as the last resort.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise _unknown_encoding(path, f"invalid {codec} after BOM: {exc.reason}") from exc
            _reject_binary_text(path, text)
            return text, codec

    if b"\x00" in data:
        guessed = _utf16_without_bom(data)
        if guessed is not None:
            try:
                text = data.decode(guessed)
            except UnicodeDecodeError:
                pass
            else:
                _reject_binary_text(path, text)
                return text, guessed
        raise _binary(path)
    if _control_share_bytes(data) > _MAX_CONTROL_SHARE:
        raise _binary(path)

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        _reject_binary_text(path, text)
        legacy = legacy_encoding.detect_text(text)  # TCVN3/VNI text saved as UTF-8 by a converter
        if legacy is not None:
            return legacy_encoding.convert(text, legacy), f"utf-8/{legacy}"
        return text, "utf-8"

    if declared and not declared.lower().replace("_", "-").startswith(("utf-16", "utf-32")):
        # (A <meta> claiming UTF-16/32 on bytes without a BOM is wrong by definition; WHATWG ignores it.)
        try:
            text = data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
        else:
            _reject_binary_text(path, text)
            return text, declared

    cp1258: str | None
    try:
        cp1258 = data.decode("cp1258")
    except UnicodeDecodeError:
        cp1258 = None
    found = legacy_encoding.detect_bytes(data, cp1258)  # TCVN3 (ABC) or VNI-Windows bytes
    if found is not None:
        _reject_binary_text(path, found[0])
        return found
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        pass
    else:
        if _plausible_vietnamese(text):
            _reject_binary_text(path, text)
            return text, "cp1258"

    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        text = str(best)
        if _control_share_text(text) <= _MAX_CONTROL_SHARE and "\ufffd" not in text:
            return text, best.encoding
    raise _unknown_encoding(path, "no plausible decoding")


def _utf16_without_bom(data: bytes) -> str | None:
    """Spot BOM-less UTF-16 by its zero bytes sitting at every other position."""
    if len(data) < 4 or len(data) % 2:
        return None
    pairs = len(data) // 2
    even_zero = data[0::2].count(0) / pairs
    odd_zero = data[1::2].count(0) / pairs
    if odd_zero >= 0.3 and even_zero <= 0.02:
        return "utf-16-le"
    if even_zero >= 0.3 and odd_zero <= 0.02:
        return "utf-16-be"
    return None


def _control_share_bytes(data: bytes) -> float:
    """Share of C0 control bytes other than whitespace (bytes.translate keeps 20 MB fast)."""
    return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data)


def _control_share_text(text: str) -> float:
    """Share of C0/C1 control characters (Unicode category Cc) other than whitespace."""
    if not text:
        return 0.0
    return len(_CONTROL_CHARS.findall(text)) / len(text)


def _reject_binary_text(path: Path, text: str) -> None:
    if "\x00" in text or _control_share_text(text) > _MAX_CONTROL_SHARE:
        raise _binary(path)


def _plausible_vietnamese(text: str) -> bool:
    """Does a cp1258 decoding read like Vietnamese (or at least not like mojibake)?

    cp1258 decodes almost any byte string, so judge the result: after NFC nearly all
    non-ASCII letters must be letters of the Vietnamese alphabet, a tone mark that did
    not compose onto a vowel counting against it (Russian or German bytes fail this;
    a Vietnamese file with the odd typo does not).
    """
    counts = Counter(_NON_ASCII.findall(unicodedata.normalize("NFC", text)))
    non_ascii_letters = 0
    vietnamese = 0
    for ch, n in counts.items():
        category = unicodedata.category(ch)
        if category == "Mn":  # a tone mark left over: it sat on something that is not a vowel
            non_ascii_letters += n
        elif category.startswith("L"):
            non_ascii_letters += n
            if ch in _VIETNAMESE_LETTERS:
                vietnamese += n
    if non_ascii_letters == 0:
        # Only punctuation above 0x7F (curly quotes, dashes): cp1258 agrees with cp1252 there.
        return True
    return vietnamese / non_ascii_letters >= _MIN_VIETNAMESE_SHARE


def _binary(path: Path) -> LoadError:
    return LoadError(path, "tệp nhị phân, không phải văn bản", "binary file, not text")


def _unknown_encoding(path: Path, detail: str) -> LoadError:
    return LoadError(path, "không nhận dạng được bảng mã", f"unknown text encoding: {detail}")


_MD_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_MD_H1 = re.compile(r"^\s{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


def _markdown_title(text: str) -> str | None:
    """First level-1 ATX heading outside fenced code, as a Markdown file's own title."""
    in_fence = False
    for line in text.splitlines():
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            m = _MD_H1.match(line)
            if m:
                return m.group(1).strip() or None
    return None


# --- docx ---------------------------------------------------------------------------


def _extract_docx(path: Path, data: bytes, max_bytes: int) -> tuple[str, str | None]:
    """Body paragraphs and tables in document order; headers/footers are boilerplate."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _corrupt_docx(path, exc) from exc
    limit = max(max_bytes * _DOCX_INFLATE_FACTOR, _DOCX_MIN_INFLATE_LIMIT)
    if inflated > limit:
        raise LoadError(
            path,
            f"tệp .docx giải nén quá lớn ({fmt_mb(inflated)})",
            f"docx inflates too large ({fmt_mb(inflated)} > {fmt_mb(limit)})",
        )

    try:
        document = docx.Document(io.BytesIO(data))
        title = (document.core_properties.title or "").strip() or None
        fonts = _DocxFonts(document)
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                text = fonts.paragraph_text(item)
                if text.strip():
                    blocks.append(text)
                    if title is None and _is_heading_style(item):
                        title = text.strip()
            elif isinstance(item, Table):
                rendered = _render_docx_table(item, fonts)
                if rendered:
                    blocks.append(rendered)
    except LoadError:
        raise
    except Exception as exc:  # python-docx / lxml / zipfile raise a variety of types
        raise _corrupt_docx(path, exc) from exc
    text = "\n\n".join(blocks)
    if not fonts.legacy_runs:  # no font says TCVN3/VNI: judge the text itself
        legacy = legacy_encoding.detect_text(text)
        if legacy is not None:
            text = legacy_encoding.convert(text, legacy)
            title = legacy_encoding.convert(title, legacy) if title else title
    return text, title


class _DocxFonts:
    """Each run's effective font (run → character style → paragraph style chain → document
    default), so runs typed in a TCVN3 or VNI font are converted to Unicode and others kept."""

    def __init__(self, document: Any) -> None:
        self.default = _docx_default_font(document)
        self.legacy_runs = 0

    def paragraph_text(self, paragraph: Any) -> str:
        from docx.text.hyperlink import Hyperlink
        from docx.text.run import Run

        para_font = _style_font(paragraph.style) or self.default
        parts: list[str] = []
        for item in paragraph.iter_inner_content():
            runs = item.runs if isinstance(item, Hyperlink) else [item] if isinstance(item, Run) else []
            for run in runs:
                font = run.font.name or _style_font(run.style) or para_font
                encoding = legacy_encoding.font_encoding(font)
                if encoding is None:
                    parts.append(run.text)
                else:
                    self.legacy_runs += 1
                    parts.append(
                        legacy_encoding.convert(
                            _legacy_run_text(run), encoding, legacy_encoding.is_uppercase_font(font)
                        )
                    )
        return "".join(parts)


def _legacy_run_text(run: Any) -> str:
    """A run's text with <w:softHyphen/> kept as U+00AD: in TCVN3 byte 0xAD is the letter "ư",
    which Word and LibreOffice store as an optional hyphen (python-docx's ``run.text`` drops it)."""
    from docx.oxml.ns import qn

    soft = qn("w:softHyphen")
    if run._r.find(soft) is None:
        return str(run.text)
    parts: list[str] = []
    for child in run._r.iterchildren():
        if child.tag == soft:
            parts.append("\u00ad")
        elif child.tag == qn("w:t"):
            parts.append(child.text or "")
    return "".join(parts)


def _style_font(style: Any) -> str | None:
    """The font a style sets, following its base styles."""
    seen = 0
    while style is not None and seen < 20:  # a cyclic basedOn chain must not loop forever
        try:
            name = style.font.name
        except Exception:  # a broken style part should not lose the text
            return None
        if name:
            return str(name)
        style = getattr(style, "base_style", None)
        seen += 1
    return None


def _docx_default_font(document: Any) -> str | None:
    """w:docDefaults/w:rPrDefault/w:rPr/w:rFonts@w:ascii of styles.xml (the document's default font)."""
    from docx.oxml.ns import qn

    try:
        fonts = document.styles.element.find(
            f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}"
        )
    except Exception:
        return None
    if fonts is None:
        return None
    value = fonts.get(qn("w:ascii")) or fonts.get(qn("w:hAnsi"))
    return str(value) if value else None


def _is_heading_style(paragraph: Any) -> bool:
    try:
        name = (paragraph.style.name or "").lower()
    except Exception:  # a broken style reference should not lose the text
        return False
    return name == "title" or name.startswith("heading")


def _render_docx_table(table: Any, fonts: _DocxFonts) -> str:
    """One line per row, cells joined by " | "; merged cells appear once."""
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a horizontally merged cell is returned once per grid column
                continue
            previous = cell._tc
            texts = (fonts.paragraph_text(p).strip() for p in cell.paragraphs)
            cells.append(" ".join(t for t in texts if t))
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _corrupt_docx(path: Path, exc: BaseException) -> LoadError:
    return LoadError(path, "tệp .docx hỏng", f"corrupt docx: {describe(exc)}")


# --- pdf ----------------------------------------------------------------------------


def _extract_pdf(
    path: Path, data: bytes, on_page: PageFn | None
) -> tuple[list[tuple[str, TextSpan]], str | None]:
    """Each page's text with its page number: the text layer, or OCR where a page has none
    (a scanned page), so a mixed PDF is read page by page."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:
        raise _corrupt_pdf(path, exc) from exc

    try:
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise _corrupt_pdf(path, exc) from exc
    if encrypted:
        try:
            # Many PDFs are encrypted only to restrict printing: the empty user password opens them.
            opened = reader.decrypt("")
        except DependencyError as exc:  # AES needs the optional "cryptography" package
            raise _undecryptable_pdf(path, exc) from exc
        except Exception as exc:
            raise _corrupt_pdf(path, exc) from exc
        if opened == PasswordType.NOT_DECRYPTED:
            raise LoadError(path, "PDF có mật khẩu", "password-protected PDF")

    try:
        pages = list(_pdf_page_texts(reader))
    except DependencyError as exc:  # AES streams are decrypted lazily, page by page
        raise _undecryptable_pdf(path, exc) from exc
    except Exception as exc:
        raise _corrupt_pdf(path, exc) from exc
    if not pages:
        raise _corrupt_pdf(path, None)
    scanned = [i for i, t in enumerate(pages) if not _has_text_layer(t)]
    ocr: dict[int, tuple[str, float]] = {}
    if scanned:
        from ingest.ocr import ocr_pdf_pages

        ocr = ocr_pdf_pages(path, data, [i + 1 for i in scanned], len(pages), on_page)
    # A PDF printed from a TCVN3/VNI document keeps the font's glyph characters in its text layer.
    legacy = legacy_encoding.detect_text("\n".join(t for i, t in enumerate(pages) if i not in scanned))
    if legacy is not None:
        pages = [t if i in scanned else legacy_encoding.convert(t, legacy) for i, t in enumerate(pages)]
    out: list[tuple[str, TextSpan]] = []
    for i, text in enumerate(pages):
        number = i + 1
        if number in ocr:
            text, conf = ocr[number]
            out.append((text, TextSpan(0, 0, page=number, ocr_conf=conf)))
        else:
            out.append((text, TextSpan(0, 0, page=number)))
    if not any(t.strip() for t, _ in out):
        raise LoadError(
            path, "PDF không có chữ đọc được, kể cả bằng OCR", "no readable text, not even by OCR"
        )
    return out, _pdf_title(reader)


# A page whose text layer has fewer letters/digits than this is a scan (at most a stamp or a page
# number was typed on it) and is OCR'd; a real text page has hundreds.
_MIN_TEXT_LAYER_CHARS = 20


def _has_text_layer(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) >= _MIN_TEXT_LAYER_CHARS


def _pdf_page_texts(reader: Any) -> Iterator[str]:
    for page in reader.pages:
        yield page.extract_text() or ""


def _pdf_title(reader: Any) -> str | None:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except Exception:  # broken metadata should not lose good page text
        return None
    if not isinstance(title, str):
        return None
    return title.strip() or None


def _undecryptable_pdf(path: Path, exc: BaseException) -> LoadError:
    return LoadError(
        path, "PDF được mã hoá, thiếu thư viện để giải mã", f"encrypted PDF, cannot decrypt: {describe(exc)}"
    )


def _corrupt_pdf(path: Path, exc: BaseException | None) -> LoadError:
    detail = describe(exc) if exc is not None else "no pages"
    return LoadError(path, "tệp PDF hỏng hoặc bị cắt cụt", f"corrupt or truncated PDF: {detail}")


# --- html ---------------------------------------------------------------------------

# Removed with their content: code, page chrome and non-text embeds.
_HTML_DROP = (
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe",
    "object", "embed", "svg", "canvas", "button", "select", "textarea", "head",
)  # fmt: skip
# Page-level chrome; kept when inside <article>/<main>, where it holds the article's own heading.
_HTML_CHROME = ("header", "footer")
_HTML_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "html", "li", "main", "ol", "p", "section", "summary", "table", "tbody", "tfoot",
        "thead", "ul", "center",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_BLOCK_END = object()


def _extract_html(path: Path, data: bytes) -> tuple[str, str, str | None]:
    """Readable block text of an HTML page; the markup is parsed as data, never run."""
    from bs4 import BeautifulSoup
    from bs4.dammit import EncodingDetector

    declared = None
    try:
        found = EncodingDetector.find_declared_encoding(data, is_html=True)
        declared = found if isinstance(found, str) else None
    except Exception:  # a malformed <meta> must not stop decoding
        declared = None
    markup, encoding = _decode_text(path, data, declared)

    soup = BeautifulSoup(markup, "lxml")
    title = _tag_text(soup.find("title"))
    for tag in soup.find_all(_HTML_DROP):
        if not getattr(tag, "decomposed", False):
            tag.decompose()
    for tag in soup.find_all(_HTML_CHROME):
        if getattr(tag, "decomposed", False):
            continue
        if tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    for tag in soup.find_all(True, hidden=True):
        if not getattr(tag, "decomposed", False):
            tag.decompose()
    if title is None:  # only now: a site logo in a page <header> is often an <h1> too
        title = _tag_text(soup.find("h1"))
    return "\n\n".join(_html_blocks(soup)), encoding, title


def _tag_text(tag: Any) -> str | None:
    if tag is None:
        return None
    return " ".join(str(tag.get_text(" ")).split()) or None


def _html_blocks(root: Any) -> list[str]:
    """Walk the tree iteratively (deep nesting cannot overflow the stack) and cut blocks."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    blocks: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        lines = (_SPACES.sub(" ", line).strip() for line in "".join(buffer).split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            blocks.append(text)
        buffer.clear()

    # Stack items: a node to visit, or _BLOCK_END meaning "the block element ended here".
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _BLOCK_END:
            flush()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctype, PIs
                buffer.append(_SPACES.sub(" ", str(node)))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name == "br":
            buffer.append("\n")
        elif name == "pre":
            flush()
            text = node.get_text().strip("\n")
            if text.strip():
                blocks.append(text)
        elif name == "tr":
            flush()
            cells = [
                " ".join(cell.get_text(" ").split()) for cell in node.find_all(["td", "th"], recursive=False)
            ]
            if any(cells):
                blocks.append(" | ".join(cells))
        elif name in _HTML_BLOCKS:
            flush()
            stack.append(_BLOCK_END)
            stack.extend(reversed(list(node.children)))
        else:
            stack.extend(reversed(list(node.children)))
    flush()
    return blocks
