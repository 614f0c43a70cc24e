"""Questions about a document itself, answered from its anatomy (parsed at ingest).

Owns: "số hiệu", "ngày ban hành", "ai ký", "cơ quan nào ban hành", "có hiệu lực khi nào",
"căn cứ văn bản nào", "Điều N quy định gì" (and, for news pages, "ai viết", "đăng ngày nào").
The anatomy (``ingest.anatomy``, stored as JSON on each document's first chunk, metadata key
``anatomy``) says where each part is; the answer is a whole Vietnamese sentence that names its
subject ("Quyết định số 412/QĐ-SNV do …") and cites the exact span it was read from.

Why not the figure path: these answers sit in a fixed place of the document's layout, so
reading them from the layout cannot pick a legal basis's date for the issue date, an upper-case
heading for the signer or a row of asterisks for a name.

Entry point: :func:`answer_fact` — ``None`` when the question is no document-fact question or
no document in scope has the part asked for (the caller then answers as usual).
"""

from __future__ import annotations

import contextvars
import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.citations import make_citation
from assistant.types import Answer, Citation, Passage
from assistant.understanding import Query
from ingest.anatomy import DOC_TYPES, Anatomy, Span, display_body
from ingest.provinces import NATIONAL

# The longest article text quoted in an answer before stopping at a sentence end.
MAX_ARTICLE_CHARS = 600
# The most legal bases listed in one answer (each is its own cited line).
MAX_BASES = 8

_DOC_WORDS = (
    r"van ban|quyet dinh|ke hoach|nghi quyet|ket luan|cong van|thong bao|bao cao|quy dinh|chi thi|"
    r"huong dan|to trinh|nghi dinh|thong tu|de an|chuong trinh|quy che"
)
# Intents, matched on the accent-free question (so "ai ky" and "ai ký" both count).
_INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("article", re.compile(r"\bdieu\s+(\d{1,3})\b")),
    ("replaces", re.compile(r"\b(thay the|bai bo)\b")),
    ("effect", re.compile(r"\bhieu luc\b|\bco hieu luc\b|\bap dung tu\b|\bthi hanh tu\b")),
    ("bases", re.compile(r"\bcan cu\b")),
    (
        "signer",
        re.compile(
            r"\b(ai ky|nguoi ky|ky boi|do ai ky|ky ten|nguoi nao ky|ai da ky|ai la nguoi ky|ky van ban)\b"
        ),
    ),
    ("author", re.compile(r"\b(ai viet|tac gia|nguoi viet|but danh|phong vien nao)\b")),
    (
        "issuer",
        re.compile(
            r"\b(co quan nao|ai ban hanh|don vi nao ban hanh|do ai ban hanh|co quan ban hanh|ban hanh boi|"
            r"cua co quan nao|noi ban hanh|cap nao ban hanh|do ai|cua ai)\b"
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(ngay ban hanh|ban hanh ngay|ban hanh khi nao|ban hanh vao|ky ngay|ngay ky|ban hanh nam nao|"
            r"ngay nao|khi nao|thoi gian ban hanh|dang ngay|dang khi nao|nam nao)\b"
        ),
    ),
    (
        "number",
        re.compile(
            rf"\b(so hieu|so ky hieu|mang so|so van ban|(?:{_DOC_WORDS})\s+so\s+(?:may|bao nhieu|gi)\b|"
            r"so may|so bao nhieu)"
        ),
    ),
)
# The document type the question names ("Quy định 54-QĐ/TW …"), used when the symbol cannot tell.
_ASKED_TYPE: contextvars.ContextVar[str] = contextvars.ContextVar("asked_type", default="")
_NUMBER_IN_Q = re.compile(r"\d+[\w./\-–]*/[\w./\-–]*\w|\d+-[A-ZĐ][\w./\-–]*\w")
_COUNT_NOUNS = re.compile(r"\b(hoc vien|can bo|lop|nguoi|dang vien|luot|cong chuc|vien chuc|ty|trieu|%)\b")


@dataclass(frozen=True)
class _Doc:
    doc_id: str
    anatomy: Anatomy
    chunks: tuple[Passage, ...]  # in text order

    def cite(self, n: int, span: Span | tuple[int, int] | None) -> Citation | None:
        """A citation of exactly ``span``, from the chunk that holds it (None when none does)."""
        if span is None:
            return None
        s, e = (span.start, span.end) if isinstance(span, Span) else span
        p = self.holder(s, e)
        return make_citation(n, p, s, e) if p else None

    def holder(self, s: int, e: int) -> Passage | None:
        """The chunk holding ``[s:e]``; else a passage made of the header or signature block that
        holds it (verbatim file text kept in the anatomy, since chunking keeps heading lines as
        section names rather than passage text)."""
        for p in self.chunks:
            if p.start <= s and e <= p.end:
                return p
        for name, block in self.anatomy.blocks.items():
            if block.start <= s and e <= block.end and self.chunks:
                first = self.chunks[0]
                return dataclasses.replace(
                    first,
                    chunk_id=f"{first.doc_id}#{name}",
                    start=block.start,
                    end=block.end,
                    text=block.value,
                    index_text=block.value,
                    section="",
                    anatomy="",
                )
        return None

    def text_at(self, s: int, e: int) -> str:
        p = self.holder(s, e)
        return p.text[s - p.start : e - p.start] if p else ""


def _plain(text: str) -> str:
    """Lower case, no diacritics, đ→d, y kept ("ký" → "ky", "ngày" → "ngay")."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9%]+", bare.replace("đ", "d")))


def intent_of(question: str) -> tuple[str, int]:
    """("article", 2) / ("signer", 0) / … / ("", 0) for the question's accent-free form."""
    key = _plain(question)
    for name, pat in _INTENTS:
        m = pat.search(key)
        if not m:
            continue
        if name == "article":
            if not re.search(r"\b(quy dinh|noi|noi dung|gi|ve|the nao|ra sao)\b", key):
                continue
            return name, int(m.group(1))
        counting = _COUNT_NOUNS.search(key) and re.search(r"\b(bao nhieu|so luong|tong so)\b", key)
        if name in ("date", "number") and counting and not re.search(_DOC_WORDS, key):
            continue  # "bao nhiêu học viên … năm nào": a figure question, not about a document
        if name == "date" and not re.search(rf"\b({_DOC_WORDS}|ban hanh|ky|bai bao|bai viet|dang)\b", key):
            if re.search(r"\b(dien ra|khai giang|be giang|to chuc|hoi nghi|le)\b", key):
                return "event", 0  # when did the reported event happen: a news page's dateline
            continue
        if name == "issuer" and not re.search(rf"\b({_DOC_WORDS}|ban hanh)\b", key):
            continue
        if name == "bases" and (
            not re.search(r"\b(nao|gi|nhung|vao dau|dua tren|dua vao)\b", key) or _COUNT_NOUNS.search(key)
        ):
            continue
        return name, 0
    return "", 0


def _docs(passages: Iterable[Passage], corpus: Iterable[Passage]) -> list[_Doc]:
    """Documents in retrieval order (the first retrieved passage's document first)."""
    order: list[str] = []
    for p in passages:
        if p.doc_id not in order:
            order.append(p.doc_id)
    chunks: dict[str, list[Passage]] = {}
    for p in corpus:
        chunks.setdefault(p.doc_id, []).append(p)
    for p in passages:  # passages not in the corpus list still count
        bucket = chunks.setdefault(p.doc_id, [])
        if all(x.chunk_id != p.chunk_id for x in bucket):
            bucket.append(p)
    for doc_id in chunks:
        if doc_id not in order:
            order.append(doc_id)
    out = []
    for doc_id in order:
        cs = sorted(chunks[doc_id], key=lambda p: p.start)
        raw = next((getattr(p, "anatomy", "") for p in cs if getattr(p, "anatomy", "")), "")
        if raw:
            out.append(_Doc(doc_id, Anatomy.from_json(raw), tuple(cs)))
    return out


def _named_in_question(question: str, docs: list[_Doc]) -> list[_Doc]:
    """Documents whose own number the question names ("Quyết định 412/QĐ-SNV …")."""
    wanted = {re.sub(r"\W", "", n).lower() for n in _NUMBER_IN_Q.findall(question)}
    if not wanted:
        return []
    hit = []
    for d in docs:
        nums = {
            d.anatomy.number_value,
            d.anatomy.table["so_hieu"].value if "so_hieu" in d.anatomy.table else "",
        }
        if {re.sub(r"\W", "", n).lower() for n in nums if n} & wanted:
            hit.append(d)
    return hit


def _cited_subject(d: _Doc, cits: list[Citation]) -> str:
    """The subject with the citation of its number, so that the number in the answer is grounded:
    "Quyết định số 240/QĐ.UB [1]"; a news page's headline is cited the same way."""
    a = d.anatomy
    span = a.number or a.table.get("so_hieu") if a.genre != "tin_bai" else a.headline
    subject = _subject(a)
    cit = d.cite(len(cits) + 1, span)
    if cit is None:
        return subject if not re.search(r"\d", subject) else (a.type_value or "Văn bản")
    cits.append(cit)
    return f"{subject} [{cit.n}]"


def _subject(a: Anatomy) -> str:
    """ "Quyết định số 412/QĐ-SNV", "Kế hoạch số 118-KH/TU", "Bài báo «…»", "Văn bản"."""
    if a.genre == "tin_bai":
        return f"Bài báo «{a.headline.value}»" if a.headline else "Bài báo"
    kind = a.type_value or _ASKED_TYPE.get() or "Văn bản"
    num = a.number_value
    return f"{kind} số {num}" if num else kind


def _position(raw: str) -> str:
    """ "PHÓ GIÁM ĐỐC" → "Phó Giám đốc"; "THỨ TRƯỞNG" → "Thứ trưởng"."""
    words = " ".join(raw.split()).lower().split()
    if not words:
        return ""
    out = [words[0].capitalize()]
    for i, w in enumerate(words[1:], start=1):
        out.append(w.capitalize() if i == 1 and words[0] in ("phó", "tổng") else w)
    return " ".join(out)


def _ans(text: str, cits: list[Citation], q: Query) -> Answer:
    return Answer(
        answer=text,
        refused=False,
        mode="qa",
        citations=cits,
        path="extractive",
        question=q.original,
        resolved_question=q.text,
    )


def _sentence_end(text: str, limit: int) -> int:
    """Index just after the last sentence end within ``limit`` (or ``limit`` when none)."""
    cut = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.;:](?=\s|$)", cut)]
    return ends[-1] if ends else len(cut)


# ------------------------------------------------------------------------------------------
# one answer per intent


def _number(d: _Doc, q: Query) -> Answer | None:
    a = d.anatomy
    span = a.number or a.table.get("so_hieu")
    if span is None:
        return None
    whole = None
    if a.summary:  # number and trích yếu in one citation, since the answer states both
        lo, hi = min(span.start, a.summary.start), max(span.end, a.summary.end)
        whole = d.cite(1, (lo, hi))
    cit = whole or d.cite(1, span)
    if not cit:
        return None
    kind = a.type_value or "Văn bản"
    about = f" {a.summary.value[:1].lower()}{a.summary.value[1:]}" if a.summary and whole else ""
    issuer = ""
    if a.issuer and cit.start <= a.issuer.start and a.issuer.end <= cit.end:
        issuer = f" của {display_body(a.issuer.value)}"
    number = d.text_at(span.start, span.end)
    return _ans(f"{kind}{issuer}{about} có số hiệu {number} [1].", [cit], q)


def _date(d: _Doc, q: Query) -> Answer | None:
    a = d.anatomy
    if a.date:
        lo = a.place.start if a.place else a.date.start
        num = a.number
        cit: Citation | None = None
        if num:  # "Số: 412/QĐ-SNV … Đồng Hới, ngày 07 tháng 04 năm 2021": the subject and the date
            cit = d.cite(1, (min(num.start, lo), max(num.end, a.date.end)))
        cit = cit or d.cite(1, (lo, a.date.end)) or d.cite(1, a.date)
        if not cit:
            return None
        where = f" tại {a.place.value}" if a.place and cit.start <= a.place.start else ""
        subject = _subject(a) if (num and cit.start <= num.start) or not num else (a.type_value or "Văn bản")
        date_txt = " ".join(d.text_at(a.date.start, a.date.end).split())
        return _ans(f"{subject} được ban hành{where} {date_txt} [1].", [cit], q)
    t = a.table.get("ngay_ban_hanh")
    if t:
        cits: list[Citation] = []
        subject = _cited_subject(d, cits)
        cit = d.cite(len(cits) + 1, t)
        if cit:
            return _ans(f"{subject} được ban hành ngày {cit.quote} [{cit.n}].", [*cits, cit], q)
    if a.genre == "tin_bai":
        return _event_date(d, q)
    return None


def _event_date(d: _Doc, q: Query) -> Answer | None:
    """A news report's dateline dates its event: quote the lead sentence that opens with it."""
    a = d.anatomy
    if a.dateline:
        holder = d.holder(a.dateline.start, a.dateline.end)
        if holder is not None:
            rest = holder.text[a.dateline.start - holder.start :]
            m = re.search(r"[.!?](?=\s|$)", rest[:400])
            end = a.dateline.start + (m.end() if m else len(rest[:400]))
            cit = make_citation(1, holder, a.dateline.start, end)
            sentence = " ".join(cit.quote.split())
            head = (
                f"Theo bài «{a.headline.value}»: "
                if a.headline and not re.search(r"\d", a.headline.value)
                else ""
            )
            return _ans(f"{head}{sentence.rstrip('.')} [1].", [cit], q)
    if a.published:
        pub = d.cite(1, a.published)
        if pub:
            return _ans(f"Bài báo được đăng ngày {_vn_date(a.published.value)} [1].", [pub], q)
    return None


def _vn_date(iso: str) -> str:
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})$", iso)
    return f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else iso


def _signer(d: _Doc, q: Query) -> Answer | None:
    a = d.anatomy
    sig = a.signature
    cits: list[Citation] = []
    subject = _cited_subject(d, cits)
    if sig and sig.name:
        cit = d.cite(len(cits) + 1, (sig.start, sig.end)) or d.cite(len(cits) + 1, sig.name)
        if not cit:
            return None
        pos = _position(sig.position.value) if sig.position else ""
        auth = ""
        if sig.authority and (not sig.position or sig.authority.value != sig.position.value):
            marker = " ".join(sig.authority.value.split())
            auth = f" ({marker[:1]}{marker[1:].lower()})" if marker else ""
            auth = re.sub(r"^\((\w+)/?(\w*)\.?", lambda m: "(" + m.group(0)[1:].upper(), auth)
        who = f"{pos} {sig.name.value}".strip()
        return _ans(f"{subject} do {who} ký{auth} [{cit.n}].", [*cits, cit], q)
    t = a.table.get("nguoi_ky")
    if t:
        cit = d.cite(len(cits) + 1, t)
        if cit:
            return _ans(f"{subject} do {t.value} ký [{cit.n}].", [*cits, cit], q)
    return None


def _author(d: _Doc, q: Query) -> Answer | None:
    a = d.anatomy
    if not a.byline:
        return None
    cits: list[Citation] = []
    subject = _cited_subject(d, cits)
    cit = d.cite(len(cits) + 1, a.byline)
    if not cit:
        return None
    agency = f" ({a.agency.value})" if a.agency else ""
    return _ans(f"{subject} do {a.byline.value}{agency} viết [{cit.n}].", [*cits, cit], q)


def _issuer(d: _Doc, q: Query) -> Answer | None:
    a = d.anatomy
    if not a.issuer:
        return None
    cits: list[Citation] = []
    subject = _cited_subject(d, cits)
    c1 = d.cite(len(cits) + 1, a.issuer)
    if not c1:
        return None
    cits.append(c1)
    parent = ""
    if a.parent:
        c2 = d.cite(len(cits) + 1, a.parent)
        if c2:
            cits.append(c2)
            parent = f", thuộc {display_body(a.parent.value)} [{c2.n}]"
    level = " — văn bản cấp Trung ương" if a.province == NATIONAL else ""
    return _ans(f"{subject} do {display_body(a.issuer.value)} ban hành [{c1.n}]{parent}{level}.", cits, q)


def _effect(d: _Doc, q: Query) -> Answer | None:
    a = d.anatomy
    cits: list[Citation] = []
    subject = _cited_subject(d, cits)
    if a.effect:
        cit = d.cite(len(cits) + 1, a.effect)
        if cit:
            clause = " ".join(cit.quote.split())
            m = re.search(r"có hiệu lực.*$", clause)
            if m:
                text = f"{subject} {m.group()} [{cit.n}]"
            else:  # "… thi hành Quyết định này kể từ ngày ký"
                text = f"{subject} được thi hành kể từ ngày ký: «{clause}» [{cit.n}]"
            cits.append(cit)
            if "ngày ký" in clause and a.date:
                c2 = d.cite(len(cits) + 1, a.date)
                if c2:
                    text += f", tức {' '.join(c2.quote.split())} [{c2.n}]"
                    cits.append(c2)
            return _ans(text + ".", cits, q)
    t = a.table.get("ngay_hieu_luc")
    if t:
        cit = d.cite(len(cits) + 1, t)
        if cit:
            return _ans(f"{subject} có hiệu lực từ ngày {cit.quote} [{cit.n}].", [*cits, cit], q)
    return None


def _replaced(d: _Doc, q: Query) -> Answer | None:
    """ "Văn bản này thay thế văn bản nào?": the final provisions' "thay thế / bãi bỏ …" clauses."""
    cits: list[Citation] = []
    subject = _cited_subject(d, cits)
    parts = []
    for span in d.anatomy.replaces:
        cit = d.cite(len(cits) + 1, span)
        if cit:
            cits.append(cit)
            parts.append(f"{' '.join(cit.quote.split())} [{cit.n}]")
    if not parts:
        return None
    return _ans(f"{subject} {'; '.join(parts)}.", cits, q)


def _bases(d: _Doc, q: Query) -> Answer | None:
    a = d.anatomy
    lines: list[str] = []
    cits: list[Citation] = []
    subject = _cited_subject(d, cits)
    for b in a.bases[:MAX_BASES]:
        cit = d.cite(len(cits) + 1, b.span)
        if not cit:
            continue
        body = re.sub(r"^[-–•+\s]*Căn cứ\s+", "", " ".join(cit.quote.split())).rstrip(" ;,.")
        lines.append(f"- {body} [{cit.n}];")
        cits.append(cit)
    if not lines:
        return None
    lines[-1] = lines[-1].rstrip(";") + "."
    return _ans(f"{subject} được ban hành căn cứ:\n" + "\n".join(lines), cits, q)


def _article(d: _Doc, q: Query, n: int) -> Answer | None:
    a = d.anatomy
    art = next((x for x in a.articles if x.n == n), None)
    if art is None:
        return None
    holder = next((p for p in d.chunks if p.start <= art.start < p.end), None)
    if holder is None:
        return None
    end = min(art.end, holder.end)
    raw = holder.text[art.start - holder.start : end - holder.start]
    head = re.match(r"Điều\s+\d+\s*[.:]\s*", raw)
    body_from = head.end() if head else 0
    cut = body_from + _sentence_end(raw[body_from:], MAX_ARTICLE_CHARS)
    cit = make_citation(1, holder, art.start, art.start + len(raw[:cut].rstrip()))
    # line by line, as the document sets it out: "1. …" stays a list item at the start of a line
    lines = [" ".join(ln.split()) for ln in raw[body_from:cut].splitlines() if ln.strip()]
    body = "\n".join(lines).rstrip(" ;:")
    if not body:
        return None
    body = body if body.endswith(".") else body + "."
    cits: list[Citation] = []
    subject = _cited_subject(d, cits)
    cit = make_citation(len(cits) + 1, holder, cit.start, cit.end)
    return _ans(f"Điều {n} của {subject} quy định: «{body[:-1]}» [{cit.n}].", [*cits, cit], q)


def answer_fact(q: Query, passages: Sequence[Passage], corpus: Iterable[Passage] = ()) -> Answer | None:
    """Answer a document-fact question from the anatomy of a document in scope, or None.

    ``passages``: the retrieved passages, best first (their documents are tried in that order);
    ``corpus``: every passage in scope (``Context.corpus.in_scope(scope)``), so that a span outside
    the retrieved passages (a signature at the end, a header at the start) can still be cited.
    A document the question names by number ("Quyết định 412/QĐ-SNV") is tried first.
    """
    intent, n = intent_of(q.text)
    if not intent:
        return None
    asked = re.search(r"\b(" + "|".join(DOC_TYPES) + r")\b", q.text, re.IGNORECASE)
    _ASKED_TYPE.set(asked.group(1).capitalize() if asked else "")
    docs = _docs(passages, corpus)
    if not docs:
        return None
    named = _named_in_question(q.text, docs)
    if not named and _NUMBER_IN_Q.search(q.text):
        # a number that is no document's own names a document they cite ("Nghị định 101/2017/NĐ-CP")
        return _referenced(q, intent, docs, passages)
    if named:
        candidates = named
    else:
        typed = _of_asked_type(q.text, docs)
        if not typed:
            return None  # the question asks about a kind of document that is not here (a Tờ trình …)
        candidates = typed[:1]
    for d in candidates:
        if intent == "article":
            ans = _article(d, q, n)
        elif intent == "effect":
            ans = _effect(d, q)
        elif intent == "replaces":
            ans = _replaced(d, q)
        elif intent == "bases":
            ans = _bases(d, q)
        elif intent == "signer":
            ans = _signer(d, q) or _author(d, q)
        elif intent == "author":
            ans = _author(d, q)
        elif intent == "issuer":
            ans = _issuer(d, q)
        elif intent == "date":
            ans = _date(d, q)
        elif intent == "event":
            ans = _event_date(d, q) if d.anatomy.genre == "tin_bai" else None
        else:
            ans = _number(d, q)
        if ans is not None:
            ans.retrieved_sources = [p.source for p in passages]
            return ans
    return None


# "Thường trực Ban Bí thư Trần Cẩm Tú vừa ký ban hành Quy định số 350-QĐ/TW": who signed a document a
# text reports on is the subject of "ký" in the sentence that names its number.
_SIGNED_BY = re.compile(
    r"(?:^|[.!?]\s+|[-–]\s+)([A-ZĐÀ-Ỹ][^.;:!?\n]{3,120}?)\s+(?:vừa\s+|đã\s+)?ký(?:\s+ban hành)?\s"
)


# A sentence-opening adverbial of time or sequence, set off by a comma: not part of the subject.
_LEAD_ADVERBIAL = re.compile(
    r"^(?:Trước đó|Sau đó|Hôm nay|Hôm qua|Mới đây|Vừa qua|Cùng ngày|Theo đó|Ngày\s+[\d/.\-]+|"
    r"(?:Sáng|Chiều|Tối|Trưa)(?:\s+nay|\s+qua)?(?:\s+[\d/.\-]+)?)\s*,\s*"
)


def _reported_signer(q: Query, passages: Sequence[Passage]) -> Answer | None:
    for p in passages:
        for num in _NUMBER_IN_Q.findall(q.text):
            at = p.text.find(num)
            if at < 0:
                continue
            start = max(p.text.rfind(". ", 0, at) + 2, p.text.rfind("\n", 0, at) + 1, 0)
            end_m = re.search(r"[.!?](?=\s|$)", p.text[at:])
            end = at + (end_m.end() if end_m else len(p.text) - at)
            sentence = p.text[start:end]
            m = _SIGNED_BY.search(sentence)
            if not m or m.end() > at - start + len(num) + 60:
                continue
            cit = make_citation(1, p, p.start + start, p.start + end)
            who = re.sub(r"^(?:\([^)]{2,30}\)|[A-ZĐ]{2,6})\s*[-–]\s*", "", m.group(1).strip())  # agency tag
            who = _LEAD_ADVERBIAL.sub("", who)
            kind = _ASKED_TYPE.get() or "văn bản"
            return _ans(f"{who} ký ban hành {kind} số {num} [1].", [cit], q)
    return None


def _referenced(q: Query, intent: str, docs: list[_Doc], passages: Sequence[Passage]) -> Answer | None:
    """A document the corpus only mentions: its date from the legal basis that cites it, its signer
    from a sentence that reports the signing; else None."""
    if intent == "signer":  # retrieved passages first, then every chunk in scope (the number is literal)
        ans = _reported_signer(q, [*passages, *(c for d in docs for c in d.chunks)])
        if ans is not None:
            ans.retrieved_sources = [p.source for p in passages]
        return ans
    if intent != "date":
        return None
    wanted = {re.sub(r"\W", "", x).lower() for x in _NUMBER_IN_Q.findall(q.text)}
    for d in docs:
        for b in d.anatomy.bases:
            for r in b.refs:
                if r.number and r.date and re.sub(r"\W", "", r.number).lower() in wanted:
                    cit = d.cite(1, (r.start, r.end))
                    if cit is None:
                        continue
                    ans = _ans(f"{r.doc_type} số {r.number} được ban hành ngày {r.date} [1].", [cit], q)
                    ans.retrieved_sources = [p.source for p in passages]
                    return ans
    return None


def _of_asked_type(question: str, docs: list[_Doc]) -> list[_Doc]:
    """The documents of the type the question names ("quyết định", "bài báo" …), best first;
    all of them when it names none or none is of that type. Only the first is answered from:
    a fact read from another document than the one asked about would be a wrong answer."""
    key = _plain(question)
    m = re.search(rf"\b({_DOC_WORDS}|bai bao|bai viet)\b", key)
    if not m:
        return docs
    word = m.group(1)
    news = word in ("bai bao", "bai viet")
    same = [
        d
        for d in docs
        if (d.anatomy.genre == "tin_bai") == news
        and (news or word == "van ban" or not d.anatomy.type_value or _plain(d.anatomy.type_value) == word)
    ]
    return same
