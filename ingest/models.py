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
    position: int
    doc_sha256: str = ""
    n_chunks: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for Chroma (str/int values only)."""
        d = asdict(self)
        for k in ("text", "index_text", "extra", "chunk_id"):
            d.pop(k)
        return d
