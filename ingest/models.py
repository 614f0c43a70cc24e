"""Plain data that crosses the ingest boundary: documents in, chunks out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DocMeta:
    """Per-document metadata, from the sidecar ``<name>.meta.yaml`` or inferred."""

    title: str
    province: str = ""
    issuing_body: str = ""
    doc_type: str = ""
    date: str = ""
    period: str = ""
    source_note: str = ""
    anatomy: str = ""  # ingest.anatomy.Anatomy as JSON (number, date, issuer, signer … with spans)


@dataclass(frozen=True)
class TextSpan:
    """Where a stretch of ``SourceDocument.text`` came from: a PDF/image page or spreadsheet rows.

    ``text[start:end]`` is the piece; spans of one document never overlap and are in text order.
    """

    start: int
    end: int
    page: int = 0  # 1-based page of a PDF or image file; 0 = the format has no pages
    ocr_conf: float = -1.0  # Tesseract's mean word confidence (0-100) on this page; -1 = not OCR'd
    sheet: str = ""  # spreadsheet sheet name; "" = not a spreadsheet
    cells: str = ""  # the rows' cell range on that sheet, e.g. "A5:C5"


@dataclass(frozen=True)
class SourceDocument:
    """A loaded file. ``text`` is what citations' character offsets point into."""

    doc_id: str
    source: str  # path relative to the corpus dir, POSIX separators
    path: Path
    text: str
    sha256: str
    meta: DocMeta
    kind: str = "txt"
    spans: tuple[TextSpan, ...] = ()  # pages / sheet rows, for locators; () = no finer place than the file


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: ``text == document.text[start:end]`` always holds."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    province: str
    period: str
    doc_type: str
    section: str
    start: int
    end: int
    text: str
    index_text: str  # normalized title/section/lead + body: what is embedded and BM25-indexed
    position: int = 0  # order in the document (0 for a record read back without it)
    doc_sha256: str = ""
    n_chunks: int = 0
    # Where the chunk sits in its file (stored in Chroma, so citations can name it):
    page: int = 0  # first PDF/image page of the chunk (1-based); 0 = not paged
    page_end: int = 0  # last page; equals ``page`` for a one-page chunk
    ocr_conf: float = -1.0  # lowest OCR confidence (0-100) of the chunk's pages; -1 = no OCR'd page
    locator: str = ""  # human-readable place: "trang 3", "trang 3–4", "bảng «Kết quả», ô A4:C9"
    anatomy: str = ""  # the document's anatomy JSON, on its first chunk only (key "anatomy")
    extra: dict[str, str] = field(default_factory=dict)

    def low_ocr_confidence(self, threshold: float) -> bool:
        """True when the chunk was read by OCR from a page scored below ``threshold``.

        The threshold is applied when a passage is shown (``IngestSettings.ocr_min_confidence``),
        not at ingest, so changing it needs no re-index.
        """
        return 0.0 <= self.ocr_conf < threshold

    def metadata(self) -> dict[str, str | int | float]:
        """Flat metadata for Chroma (str/int/float values only)."""
        d = asdict(self)
        for k in ("text", "index_text", "extra", "chunk_id"):
            d.pop(k)
        return d
