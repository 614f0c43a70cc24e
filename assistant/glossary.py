"""What the "Tìm hiểu" mode knows about the corpus: abbreviations it defines or uses, the
regulations it cites, and how to recognise questions about either (mined once per index load)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.injection import clean_sentence_spans
from assistant.types import Passage
from assistant.understanding import abbreviations
from ingest.normalize import strip_accents

_DEFINED = re.compile(r"\(([A-ZĐ][A-ZĐa-z0-9]*(?:\s*[,\-]\s*[A-ZĐ][A-ZĐ0-9]*)*)\)")
REG_PATTERN = re.compile(
    r"(?P<kind>Kế hoạch|Quyết định|Quy định|Nghị quyết|Kết luận|Chỉ thị|Thông tư|Nghị định|Đề án)"
    r"\s+(?:số\s+)?(?P<num>\d+(?:[-/][0-9A-Za-zĐđ/.\-]*[0-9A-Za-zĐđ])?)"
    r"(?:,?\s*ngày\s+(?P<date>\d{1,2}\s*[-/]\s*\d{1,2}\s*[-/]\s*\d{4}))?"
    r"(?:\s+của\s+(?P<issuer>[^,.;()\n]+?))?"
    r"(?=\s+về\s|\s+phê duyệt|\s+và\s|[,.;()\n]|$)"
    r"(?:\s+(?:về|phê duyệt)\s+(?P<about>[^.;\n(]{5,200}))?"
)
ABBR_QUESTION = re.compile(
    r"(là gì|là [\w\s]{1,20}? gì|nghĩa là gì|viết tắt|là chữ gì|có nghĩa|nghĩa là|là những ai|là chỉ|chỉ những ai|là ai)",
    re.I,
)
_REG_QUESTION = re.compile(
    r"(văn bản|quy định|nghị quyết|kế hoạch|quyết định|kết luận|chỉ thị|đề án).*(nào|liệt kê|danh sách|những|các)"
    r"|(liệt kê|danh sách|những|các).*(văn bản|quy định|nghị quyết|kế hoạch|quyết định|kết luận)",
    re.I,
)
_SUMMARY_QUESTION = re.compile(r"(tóm tắt|tom tat|nội dung chính|tổng quan)", re.I)


@dataclass
class GlossaryEntry:
    abbr: str
    expansion: str
    passage: Passage | None = None  # where the corpus defines or uses it
    span: tuple[int, int] | None = None  # absolute offsets of the definition/use
    defined_in_corpus: bool = False


@dataclass
class Regulation:
    kind: str
    number: str
    date: str
    issuer: str
    about: str
    passage: Passage
    span: tuple[int, int]
    cited_in: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return (
            f"{self.kind} số {self.number}"
            if "/" in self.number or "-" in self.number
            else f"{self.kind} {self.number}"
        )


def _initials_match(words: list[str], abbr: str) -> bool:
    letters = [c for c in strip_accents(abbr).replace("đ", "d") if c.isalnum()]
    initials = [strip_accents(w)[0] for w in words if w and w[0].isalnum()]
    return [c.lower() for c in letters] == initials


def mine_glossary(passages: list[Passage]) -> dict[str, GlossaryEntry]:
    """Abbreviations the documents define ("lý luận chính trị (LLCT)"), plus the built-in list."""
    out: dict[str, GlossaryEntry] = {}
    for p in passages:
        for m in _DEFINED.finditer(p.text):
            abbr = " ".join(m.group(1).split())
            before = p.text[: m.start()].rstrip()
            words = re.findall(r"[\wÀ-ỹĐđ]+|,", before)[-12:]
            for k in range(1, len(words) + 1):
                cand = [w for w in words[-k:] if w != ","]
                if _initials_match(cand, abbr):
                    # find where the long form starts in the text
                    long_start = before.rfind(cand[0], 0, len(before))
                    start = p.start + long_start
                    end = p.start + m.end()
                    expansion = p.text[long_start : m.start()].strip()
                    if abbr not in out or not out[abbr].defined_in_corpus:
                        out[abbr] = GlossaryEntry(abbr, expansion, p, (start, end), True)
                    break
    for abbr, long in abbreviations().items():
        if abbr in out:
            continue
        use = _first_use(passages, abbr)
        out[abbr] = GlossaryEntry(abbr, long, use[0] if use else None, use[1] if use else None, False)
    return out


def _first_use(passages: list[Passage], abbr: str) -> tuple[Passage, tuple[int, int]] | None:
    pat = re.compile(rf"(?<![\wĐđ]){re.escape(abbr)}(?![\wĐđ])")
    for p in passages:
        for s, e in clean_sentence_spans(p.text):
            if pat.search(p.text[s:e]):
                return p, (p.start + s, p.start + e)
    return None


def find_abbreviation(question: str, glossary: dict[str, GlossaryEntry]) -> GlossaryEntry | None:
    """The abbreviation a question asks about ("LLCT là gì?", "CBCC nghĩa là gì", "HBĐT")."""
    found = [a for a in glossary if re.search(rf"(?<![\wĐđ/-]){re.escape(a)}(?![\wĐđ/-])", question)]
    if not found:
        return None
    if not ABBR_QUESTION.search(question) and len(question.split()) > len(found[0].split()) + 3:
        return None
    return glossary[max(found, key=len)]


def mine_regulations(passages: list[Passage]) -> list[Regulation]:
    """Documents the corpus cites (số hiệu, ngày, cơ quan ban hành, nội dung), first citation kept."""
    regs: dict[str, Regulation] = {}
    for p in sorted(passages, key=lambda x: (x.source, x.start)):
        for m in REG_PATTERN.finditer(p.text):
            num = m.group("num")
            key = f"{m.group('kind')} {num}"
            if key in regs:
                regs[key].cited_in.add(p.title)
                reg = regs[key]
                if not reg.date and m.group("date"):  # a later mention may be more complete
                    regs[key] = _reg_from(m, p)
                    regs[key].cited_in |= reg.cited_in
                continue
            regs[key] = _reg_from(m, p)
    return sorted(regs.values(), key=lambda r: (r.kind, r.number))


def _reg_from(m: re.Match[str], p: Passage) -> Regulation:
    about = (m.group("about") or "").strip()
    about = re.sub(r"\s+", " ", about)
    return Regulation(
        kind=m.group("kind"),
        number=m.group("num"),
        date=" ".join((m.group("date") or "").split()),
        issuer=" ".join((m.group("issuer") or "").split()),
        about=about if len(about) <= 160 else about[:160].rsplit(" ", 1)[0] + "…",
        passage=p,
        span=(p.start + m.start(), p.start + m.end()),
        cited_in={p.title},
    )


def is_regulation_question(question: str) -> bool:
    return bool(_REG_QUESTION.search(question))


def is_summary_question(question: str) -> bool:
    return bool(_SUMMARY_QUESTION.search(question))
