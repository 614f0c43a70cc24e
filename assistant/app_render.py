"""What the chat app shows, as text: answer bubbles, the sources panel, copy text, .docx export.

Owns every string the app builds from an ``Answer`` or from document metadata. Documents are
data: whatever comes from a document is HTML-escaped, and in the chat bubble (Markdown) its
Markdown syntax is escaped too, so a document's ``![x](http://…)`` shows as text and never makes
the browser fetch a URL. Diagnostics (``Answer.notes``, timings, the answer path) go to
:func:`details_markdown`, shown in the collapsed «Chi tiết kỹ thuật», never in the answer.
Lists shown to people are sorted in Vietnamese alphabetical order (:func:`vi_sort_key`).
"""

from __future__ import annotations

import contextlib
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.types import Answer, Citation

if TYPE_CHECKING:
    from assistant.service import DocInfo

MODE_TITLES: dict[str, str] = {"qa": "Câu trả lời", "draft": "Bản soạn giải pháp", "learn": "Tìm hiểu"}
_MARKER = re.compile(r"\[(\d{1,2})\]")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A citation marker "[n]" that Markdown could not read as a link or a link definition.
_BARE_MARKER = re.compile(r"\[(\d{1,2})\](?![(\[:])")
# Markdown's active characters (CommonMark §2.4: any ASCII punctuation may be backslash-escaped).
# "-" and "." are left alone so the drafts' "- " bullets and "1." lists still render as lists;
# ":" and "@" are escaped so no URL or e-mail address in a document becomes a link (GFM autolinks).
_MD_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+!|~<>$:@])")
_WWW = re.compile(r"(?i)\b(www)\.")
_MD_LINK_MARKER = re.compile(r"\[\\\[(\d{1,2})\\\]\]\(#dtbd-cite-\d{1,2}\)")
SNIPPET_CHARS = 160  # how much of a passage a collapsed source card shows in its summary line


# -- Vietnamese order --------------------------------------------------------------------------
# The Vietnamese alphabet (TCVN 5712 order): ă and â follow a, đ follows d, ê follows e, ô and ơ
# follow o, ư follows u. Tones sort after the letters, in the dictionary order
# không dấu < huyền < hỏi < ngã < sắc < nặng. No installed library has this tailoring (ICU
# would, but PyICU needs a native build), so it is spelled out here.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
# base letter + breve / circumflex / horn (NFD) -> the Vietnamese letter it makes
_VOWEL_MARKS = {
    "a\u0306": "ă",
    "a\u0302": "â",
    "e\u0302": "ê",
    "o\u0302": "ô",
    "o\u031b": "ơ",
    "u\u031b": "ư",
}
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _letter_key(word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    letters: list[int] = []
    tones: list[int] = []
    for ch in word:
        parts = unicodedata.normalize("NFD", ch)
        base, marks = ("đ", "") if ch == "đ" else (parts[0], parts[1:])
        tone = 0
        for m in marks:
            if m in _TONE_RANK:
                tone = _TONE_RANK[m]
            else:
                base = _VOWEL_MARKS.get(base + m, base)
        letters.append(_LETTER_RANK.get(base, 100 + ord(base)))  # digits, signs: after letters
        tones.append(tone)
    return tuple(letters), tuple(tones)


def vi_sort_key(text: str) -> tuple[tuple[tuple[tuple[int, ...], tuple[int, ...]], ...], str]:
    """Sort key for Vietnamese text, syllable by syllable: letters first (ă â đ ê ô ơ ư are letters),
    then the tone, as dictionaries order them ("Ba Vì" < "Bà Rịa" < "Bả Kha" < "Bạch Long")."""
    words = unicodedata.normalize("NFC", text).lower().split()
    return tuple(_letter_key(w) for w in words), text


def vi_sorted(items: Iterable[str]) -> list[str]:
    return sorted(items, key=vi_sort_key)


# -- escaping ------------------------------------------------------------------------------------
def esc(text: Any) -> str:
    """HTML-escape for the HTML panels (sources, status lines)."""
    return html.escape(str(text), quote=True)


def md_text(text: str) -> str:
    """Document text made inert for a Markdown bubble: HTML escaped, Markdown syntax escaped."""
    escaped = _MD_ACTIVE.sub(r"\\\1", html.escape(text, quote=False))
    return _WWW.sub(r"\1\\.", escaped)  # "www.x.vn" would be autolinked too


def _xml_safe(text: str) -> str:
    return _XML_BAD.sub("", text)


# -- the chat bubble --------------------------------------------------------------------------
def chat_markdown(answer: Answer) -> str:
    """The answer for the chat bubble: inert text, known markers turned into links to their source.

    ``Answer.notes`` are diagnostics and are not part of the answer (see :func:`details_markdown`).
    """
    known = {c.n for c in answer.citations}
    pieces: list[str] = []
    pos = 0
    for m in _BARE_MARKER.finditer(answer.answer):
        pieces.append(md_text(answer.answer[pos : m.start()]))
        n = int(m.group(1))
        pieces.append(f"[\\[{n}\\]](#dtbd-cite-{n})" if n in known else m.group(0))
        pos = m.end()
    pieces.append(md_text(answer.answer[pos:]))
    return "".join(pieces)


def partial_markdown(text: str) -> str:
    """A streamed, already verified part of an answer (markers not yet linked)."""
    return md_text(text) + " …"


def plain_from_markdown(text: str) -> str:
    """What a copy button should put on the clipboard for a bubble: no link syntax, no escapes."""
    text = _MD_LINK_MARKER.sub(r"[\1]", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+!|~<>$:@.-])", r"\1", text)
    return html.unescape(text)


# -- diagnostics -------------------------------------------------------------------------------
def details_markdown(answer: Answer | None, elapsed_s: float | None = None) -> str:
    """The collapsed «Chi tiết kỹ thuật»: how the answer was made, notes, timings."""
    if answer is None:
        return ""
    path = {
        "extractive": "trích nguyên văn",
        "llm": "mô hình ngôn ngữ viết, đã kiểm chứng",
        "refusal": "từ chối (không đủ căn cứ)",
    }.get(answer.path, answer.path)
    lines = [f"- Cách trả lời: {md_text(path)}"]
    if answer.resolved_question and answer.resolved_question != answer.question:
        lines.append(f"- Câu hỏi được hiểu là: «{md_text(answer.resolved_question)}»")
    for note in answer.notes:
        lines.append(f"- Ghi chú: {md_text(note)}")
    if answer.timings_ms:
        parts = ", ".join(f"{md_text(k)} {v / 1000:.1f} s" for k, v in answer.timings_ms.items())
        lines.append(f"- Thời gian: {parts}")
    if elapsed_s is not None:
        lines.append(f"- Tổng thời gian trên giao diện: {elapsed_s:.1f} s")
    if answer.retrieved_sources:
        lines.append(
            "- Tài liệu đã xem: " + ", ".join(md_text(s) for s in dict.fromkeys(answer.retrieved_sources))
        )
    return "\n".join(lines)


# -- the sources panel -------------------------------------------------------------------------
def sources_html(answer: Answer | None, selected: int | None = None) -> str:
    """The sources panel: one card per citation, the selected one open, the cited span in <mark>."""
    if answer is None or not answer.citations:
        msg = "Chưa có trích dẫn. Đặt câu hỏi để xem đoạn văn nguồn."
        if answer is not None and answer.refused:
            msg = "Câu trả lời không dựa trên đoạn văn nào (tài liệu hiện có không có thông tin)."
        return f'<div class="dtbd-sources"><p class="dtbd-empty">{esc(msg)}</p></div>'
    if selected is None or selected not in {c.n for c in answer.citations}:
        selected = answer.citations[0].n
    cards = []
    for c in answer.citations:
        text = c.passage.text
        s = max(0, min(len(text), c.start - c.passage.start))
        e = max(s, min(len(text), c.end - c.passage.start))
        body = f"{esc(text[:s])}<mark>{esc(text[s:e])}</mark>{esc(text[e:])}"
        meta = [
            f"Tỉnh: {esc(c.province or 'không rõ')}",
            f"Mục: {esc(c.section or '—')}",
            f"Tệp: {esc(c.source)} [{c.start}–{c.end}]",
        ]
        if c.passage.locator:  # a page of a PDF or scan, a sheet and cell range of a spreadsheet
            meta.insert(2, f"Vị trí: {esc(c.passage.locator)}")
        if c.passage.ocr_conf >= 0:
            meta.append(f"Đọc từ bản quét (độ tin cậy {c.passage.ocr_conf:.0f}/100)")
        is_open = " open" if c.n == selected else ""
        cards.append(
            f'<details class="dtbd-cite" id="dtbd-cite-{c.n}" data-n="{c.n}"{is_open}>'
            f'<summary><span class="dtbd-n">[{c.n}]</span><b class="dtbd-title">{esc(c.title)}</b></summary>'
            f'<div class="dtbd-meta">{" · ".join(meta)}</div>'
            f'<div class="dtbd-passage">{body}</div></details>'
        )
    return f'<div class="dtbd-sources">{"".join(cards)}</div>'


def found_sources_html(found: Iterable[tuple[str, str]] = (), n: int = 0) -> str:
    """While the answer is being written: the documents retrieval found passages in.

    ``found`` holds ``(title, province)`` per document, best first; ``n`` is the passage count.
    """
    items = [
        f'<li><b>{esc(title)}</b> <span class="dtbd-meta">({esc(province or "không rõ tỉnh")})</span></li>'
        for title, province in found
    ]
    if not items:
        return '<div class="dtbd-sources"><p class="dtbd-empty">Đang tìm trong tài liệu…</p></div>'
    return (
        f'<div class="dtbd-sources"><p class="dtbd-empty">Đã tìm thấy {n} đoạn văn trong các tài liệu '
        "sau; đoạn được trích sẽ hiện ở đây khi câu trả lời xong:</p>"
        f'<ul class="dtbd-found">{"".join(items)}</ul></div>'
    )


# -- copy text and .docx ------------------------------------------------------------------------
def citation_line(c: Citation) -> str:
    quote = " ".join(c.quote.split())
    return f"[{c.n}] {c.title} — {c.province or 'không rõ tỉnh'} — «{quote}»"


def place_in_file(c: Citation) -> str:
    """Where the cited span is: file, page or sheet/cells (scans, PDFs, spreadsheets), section."""
    where = f"tệp {c.source}"
    if c.passage.locator:
        where += f", {c.passage.locator}"
    return f"{where}, mục: {c.section or '—'}"


def copy_text(answer: Answer) -> str:
    """Copy-ready plain text: the answer with its citations as numbered notes (no Markdown)."""
    lines = [answer.answer.strip()]
    if answer.citations:
        lines += ["", "Nguồn trích dẫn:"]
        for c in answer.citations:
            lines.append(f"{citation_line(c)} ({place_in_file(c)})")
    return "\n".join(lines)


def answer_docx(answer: Answer, path: Path) -> Path:
    """Write the answer (typically a draft) to .docx with its citations as numbered endnotes."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = _xml_safe(f"Trợ lý ĐTBD — {answer.question}"[:250])
    doc.core_properties.author = "Trợ lý ĐTBD"
    doc.add_heading(MODE_TITLES.get(answer.mode, "Câu trả lời"), level=1)
    q = doc.add_paragraph()
    q.add_run("Câu hỏi: ").bold = True
    q.add_run(_xml_safe(answer.question)).italic = True
    for line in answer.answer.split("\n"):
        line = _xml_safe(line.rstrip())
        if not line:
            continue
        if line.startswith("- "):
            doc.add_paragraph(line[2:], style="List Bullet")
        else:
            doc.add_paragraph(line)
    if answer.citations:
        doc.add_heading("Nguồn trích dẫn", level=2)
        for c in answer.citations:
            p = doc.add_paragraph(_xml_safe(citation_line(c)))
            extra = p.add_run(_xml_safe(f" ({place_in_file(c)})"))
            extra.font.size = Pt(9)
    doc.add_paragraph().add_run(
        f"Soạn bằng Trợ lý ĐTBD lúc {datetime.now().strftime('%H:%M %d/%m/%Y')}; "
        "mọi số liệu có trích dẫn nguồn ở trên."
    ).font.size = Pt(8)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


# -- the document library ------------------------------------------------------------------------
DOC_HEADERS = ["Tiêu đề", "Tỉnh", "Giai đoạn", "Loại", "Số đoạn", "Tệp", "Tải lên"]
SORTABLE = DOC_HEADERS[:6]


@dataclass(frozen=True)
class DocFilter:
    """The library's filter box: a word in the title or file name, a province, a sort column."""

    text: str = ""
    province: str = ""
    sort: str = "Tiêu đề"


def upload_note(record: Any) -> str:
    """«who, when» of an upload ledger record (``ingest.uploads.UploadRecord``)."""
    when = str(getattr(record, "uploaded_at", "") or "")
    with contextlib.suppress(ValueError):  # an odd ledger value is shown as stored
        when = datetime.fromisoformat(when).astimezone().strftime("%d/%m/%Y %H:%M")
    return ", ".join(x for x in (str(getattr(record, "sender", "") or ""), when) if x)


def doc_rows(
    docs: Iterable[DocInfo], flt: DocFilter | None = None, uploads: dict[str, str] | None = None
) -> list[list[Any]]:
    """Rows of the «Kho tài liệu» table, filtered and sorted in Vietnamese order.

    ``uploads`` maps a document's source (``uploads/<name>``) to its :func:`upload_note`.
    """
    from ingest.normalize import strip_accents

    flt = flt or DocFilter()
    uploads = uploads or {}
    needle = strip_accents(flt.text.strip()) if flt.text.strip() else ""
    rows: list[list[Any]] = []
    for d in docs:
        if flt.province and d.province != flt.province:
            continue
        if needle and needle not in strip_accents(f"{d.title} {d.source}"):
            continue
        rows.append(
            [d.title, d.province, d.period, d.doc_type, d.chunks, d.source, uploads.get(d.source, "")]
        )
    col = DOC_HEADERS.index(flt.sort) if flt.sort in SORTABLE else 0
    if DOC_HEADERS[col] == "Số đoạn":
        rows.sort(key=lambda r: -int(str(r[col])))
    else:
        rows.sort(key=lambda r: vi_sort_key(str(r[col])))
    return rows


def filter_choices(docs: list[DocInfo]) -> tuple[list[str], list[tuple[str, str]]]:
    """Province and document choices for the chat filters, in Vietnamese order."""
    provinces = vi_sorted({d.province for d in docs if d.province})
    doc_choices = []
    for d in sorted(docs, key=lambda d: vi_sort_key(d.title)):
        label = d.title if len(d.title) <= 90 else d.title[:87] + "…"
        doc_choices.append((f"{label} ({d.province or 'không rõ tỉnh'})", d.doc_id))
    return provinces, doc_choices
