"""Structure-aware chunking along the document's own headings, paragraphs and sentences.

Pure functions: a ``SourceDocument`` in, ``Chunk`` objects out, each pointing at an exact
span of the original text so that a citation can be highlighted character for character.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass

from ingest.boilerplate import kept_spans
from ingest.models import Chunk, SourceDocument, TextSpan
from ingest.normalize import normalize_text

_ROMAN_HEADING = re.compile(r"^(?:[IVX]{1,4})\s*[-.–)]\s*\S")
_TERMINAL = ".;!?…"
_CONTINUES = re.compile(r"^(?:Trong đó|Cụ thể|Gồm|Bao gồm|Riêng|Trong số đó)\b", re.IGNORECASE)
_ORDINAL_START = re.compile(
    r"^(?:Một là|Hai là|Ba là|Bốn là|Năm là|Sáu là|Thứ nhất|Thứ hai|Thứ ba|Thứ tư|Thứ năm|\d{1,2}[.)]\s)"
)


@dataclass
class _Para:
    start: int
    end: int
    heading: bool = False


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_heading(line: str) -> bool:
    if re.fullmatch(r"[\d/:.\s-]+", line):  # a dateline is content, not a title
        return False
    if _ROMAN_HEADING.match(line) and len(line) <= 120:
        return True
    if len(line) > 100 or line[-1] in _TERMINAL + "," or line[0] in "-•+*":
        return False
    return len(line.split()) <= 16 and not _ORDINAL_START.match(line)


def paragraphs(text: str) -> list[_Para]:
    """Content paragraphs (boilerplate dropped); a line broken mid-sentence is rejoined."""
    paras: list[_Para] = []
    for s, e in kept_spans(text):
        s, e = _trim(text, s, e)
        if s == e:
            continue
        line = text[s:e]
        if paras and not paras[-1].heading:
            prev = paras[-1]
            prev_text = text[prev.start : prev.end]
            if prev_text[-1] not in _TERMINAL + ":" and len(prev_text) > 80 and line[0].islower():
                prev.end = e  # "…của\n\nBan Chấp hành…": one sentence split by a page break
                continue
        paras.append(_Para(s, e, heading=_is_heading(line)))
    return paras


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``; never splits "72.810" or "26,8"."""
    spans: list[tuple[int, int]] = []
    s = start
    i = start
    while i < end:
        ch = text[i]
        if ch in ".!?…":
            j = i + 1
            while j < end and text[j] in '"”’)»':
                j += 1
            if j < end and text[j].isspace():
                k = j
                while k < end and text[k].isspace():
                    k += 1
                short_label = j - s <= 4  # "I." / "1." opening a numbered item is not a sentence
                if (
                    k < end
                    and not short_label
                    and (text[k].isupper() or text[k].isdigit() or text[k] in '"“(«-')
                ):
                    spans.append(_trim(text, s, j))
                    s = k
                    i = k
                    continue
        i += 1
    if s < end:
        spans.append(_trim(text, s, end))
    return [sp for sp in spans if sp[0] < sp[1]]


def _units(text: str, para: _Para, max_chars: int) -> list[tuple[int, int, bool]]:
    """A paragraph as one unit, or its sentences grouped when it is too long.

    The bool says whether the unit starts the paragraph (else it needs the lead sentence
    as context). Sentences that continue the previous one ("Trong đó: …") stay with it.
    """
    if para.end - para.start <= max_chars:
        return [(para.start, para.end, True)]
    groups: list[list[int]] = []
    for s, e in sentence_spans(text, para.start, para.end):
        if groups:
            cur_start, cur_end = groups[-1]
            glue = bool(_CONTINUES.match(text[s:e])) and (e - cur_start) <= 2 * max_chars
            if glue or e - cur_start <= max_chars:
                groups[-1][1] = e
                continue
        groups.append([s, e])
    return [(g[0], g[1], g[0] == para.start) for g in groups]


_CELL = re.compile(r"^([A-Z]+)(\d+)$")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _cell_union(ranges: list[str]) -> str:
    """The smallest range covering cell ranges of one sheet ("A5:C5", "A6:C6" → "A5:C6")."""
    cols: list[int] = []
    rows: list[int] = []
    for rng in ranges:
        for ref in rng.split(":"):
            m = _CELL.match(ref)
            if m:
                cols.append(_col_number(m.group(1)))
                rows.append(int(m.group(2)))
    if not cols:
        return ""
    first, last = f"{_col_letters(min(cols))}{min(rows)}", f"{_col_letters(max(cols))}{max(rows)}"
    return first if first == last else f"{first}:{last}"


@dataclass(frozen=True)
class Place:
    """Where a stretch of a document's text lies in its file (pages, OCR confidence, sheet cells)."""

    page: int = 0
    page_end: int = 0
    ocr_conf: float = -1.0
    locator: str = ""


def place_of(spans: tuple[TextSpan, ...], start: int, end: int) -> Place:
    """Pages, lowest OCR confidence and a readable locator for ``text[start:end]``.

    Citations name it: "trang 3", "trang 3–4", "bảng «Kết quả», ô A4:C9".
    """
    if not spans:
        return Place()
    i = max(bisect.bisect_right([sp.start for sp in spans], start) - 1, 0)
    hit: list[TextSpan] = []
    while i < len(spans) and spans[i].start < end:
        if spans[i].end > start:
            hit.append(spans[i])
        i += 1
    if not hit:
        return Place()
    pages = [sp.page for sp in hit if sp.page > 0]
    confs = [sp.ocr_conf for sp in hit if sp.ocr_conf >= 0]
    parts: list[str] = []
    if pages:
        first, last = min(pages), max(pages)
        parts.append(f"trang {first}" if first == last else f"trang {first}–{last}")
    sheets: dict[str, list[str]] = {}
    for sp in hit:
        if sp.sheet:
            sheets.setdefault(sp.sheet, []).append(sp.cells)
    for name, ranges in sheets.items():
        cells = _cell_union(ranges)
        parts.append(f"bảng «{name}», ô {cells}" if cells else f"bảng «{name}»")
    return Place(
        page=min(pages) if pages else 0,
        page_end=max(pages) if pages else 0,
        ocr_conf=round(min(confs), 1) if confs else -1.0,
        locator="; ".join(parts),
    )


def _chunk_id(doc_id: str, start: int, end: int, index_text: str) -> str:
    return hashlib.sha256(f"{doc_id}\x1f{start}\x1f{end}\x1f{index_text}".encode()).hexdigest()[:32]


def chunk_document(doc: SourceDocument, max_chars: int = 700, min_chars: int = 160) -> list[Chunk]:
    """Split a document into chunks that respect its sections, paragraphs and sentences."""
    text = doc.text
    paras = paragraphs(text)
    # (section, start, end, lead) pieces before size-merging
    pieces: list[tuple[str, int, int, str]] = []
    top = ""
    sub: list[str] = []
    pending_headings: list[_Para] = []
    for para in paras:
        line = text[para.start : para.end]
        if para.heading:
            pending_headings.append(para)
            if _ROMAN_HEADING.match(line):
                top, sub = " ".join(line.split()), []
            else:
                if (
                    pending_headings
                    and len(pending_headings) > 1
                    and not _ROMAN_HEADING.match(text[pending_headings[-2].start : pending_headings[-2].end])
                ):
                    sub.append(" ".join(line.split()))
                else:
                    sub = [" ".join(line.split())]
            continue
        pending_headings = []
        section = " › ".join(x for x in (top, " ".join(sub)) if x)
        lead_sentence = sentence_spans(text, para.start, para.end)[0]
        for s, e, starts_para in _units(text, para, max_chars):
            lead = "" if starts_para else text[lead_sentence[0] : lead_sentence[1]][:200]
            pieces.append((section, s, e, lead))
    if pending_headings:  # signature or author lines after the last paragraph
        section = pieces[-1][0] if pieces else ""
        pieces.append((section, pending_headings[0].start, pending_headings[-1].end, ""))

    merged: list[tuple[str, int, int, str]] = []
    for section, s, e, lead in pieces:
        if merged:
            m_section, m_s, m_e, m_lead = merged[-1]
            same = m_section == section
            if same and ((m_e - m_s) < min_chars or (e - m_s) <= max_chars) and (e - m_s) <= 2 * max_chars:
                merged[-1] = (m_section, m_s, e, m_lead)
                continue
        merged.append((section, s, e, lead))
    # A header's decoration lines ("-------", "*") say nothing: never a passage, never an answer.
    merged = [m for m in merged if re.search(r"\w", text[m[1] : m[2]])]

    meta = doc.meta
    chunks: list[Chunk] = []
    for pos, (section, s, e, lead) in enumerate(merged):
        body = text[s:e]
        header = ". ".join(
            x for x in (meta.title, f"Tỉnh {meta.province}" if meta.province else "", section) if x
        )
        index_text = normalize_text(f"{header}.\n{lead}\n{body}" if lead else f"{header}.\n{body}")
        place = place_of(doc.spans, s, e)
        chunks.append(
            Chunk(
                chunk_id=_chunk_id(doc.doc_id, s, e, index_text),
                doc_id=doc.doc_id,
                source=doc.source,
                title=meta.title,
                province=meta.province,
                period=meta.period,
                doc_type=meta.doc_type,
                section=section,
                start=s,
                end=e,
                text=body,
                index_text=index_text,
                position=pos,
                doc_sha256=doc.sha256,
                n_chunks=len(merged),
                anatomy=meta.anatomy if pos == 0 else "",
                page=place.page,
                page_end=place.page_end,
                ocr_conf=place.ocr_conf,
                locator=place.locator,
            )
        )
    return chunks
