"""How a verbatim span becomes an answer a person can paste: a whole sentence that names its
subject and, where the document states it, its period; ends with its marker; and quotes the
document only where the sentence is not already its words.

Every word after the subject is the document's own (the cited span), so every figure in the
answer is in the cited span: the period is taken from the figure's own sentence (and the
citation widened to cover it), never from metadata the span does not show.
"""

from __future__ import annotations

import re

from assistant.citations import make_citation
from assistant.extractive import Extract
from assistant.figures import extract_figures
from assistant.types import Answer, Passage
from assistant.understanding import Query
from ingest.provinces import NATIONAL, former_label

# A cited clause up to this long is the answer itself (its related figures come along, each with its
# qualifier); a longer one is answered by the figure's own clause, the whole span quoted after it.
INLINE_MAX_CHARS = 320
# How far before the cited span a time adverbial of the same sentence may be ("Từ năm 2012 đến năm
# 2020, … cụ thể là: … 935 cán bộ"): reports open a sentence with its period and enumerate after it.
PERIOD_LOOKBACK_CHARS = 600

# Time adverbials that state a period in reports and plans (Vietnamese grammar: they open the
# clause they qualify): "từ năm 2012 đến năm 2020", "giai đoạn 2015 - 2020", "trong 5 năm (2015 -
# 2019)", "khóa học 2015-2017", "năm 2019", "6 tháng đầu năm 2018".
_Y = r"(?:19|20)\d{2}"
_PERIOD = re.compile(
    rf"(?:(?:[Tt]ừ|[Tt]rong) (?:năm )?{_Y} (?:đến|tới) (?:năm )?{_Y}"
    rf"|(?:[Gg]iai đoạn|[Tt]hời kỳ|[Nn]hiệm kỳ|[Kk]hóa học|[Kk]hoá học|[Kk]hóa|[Kk]hoá) {_Y}\s*[-–]\s*{_Y}"
    rf"|[Tt]rong \d+ năm \({_Y}\s*[-–]\s*{_Y}\)"
    rf"|(?:\d+ tháng (?:đầu|cuối) )?[Nn]ăm {_Y})"
)
_YEAR = re.compile(rf"(?<!\d){_Y}(?!\d)")


def subject(p: Passage, origin: dict[str, str] | None = None) -> str:
    """Who the answer speaks of: the document's province (a former one named as such), or the
    document itself when it is national or names no province."""
    origin = origin or {}
    if p.province and p.province != NATIONAL:
        asked = origin.get(p.province, p.province)
        label = former_label(p.province, asked)
        return label[:1].upper() + label[1:] if asked != p.province else p.province
    name = _doc_name(p)
    if p.province == NATIONAL:
        return f"Theo {name} (văn bản Trung ương)"
    return f"Theo {name} (tài liệu không nêu tỉnh)"


def _doc_name(p: Passage) -> str:
    """The document as a phrase without figures (a title's numbers would be claims the span lacks)."""
    title = " ".join(p.title.split())
    if title and not extract_figures(title) and len(title) <= 120:
        return f"«{title}»"
    kind = p.doc_type.strip()
    return f"{kind} này" if kind and not extract_figures(kind) else "tài liệu này"


def period_phrase(ex: Extract) -> tuple[str, int] | None:
    """(the period adverbial, its absolute start) that opens the figure's sentence before the
    cited span, when the span itself states no year."""
    if _YEAR.search(ex.quote):
        return None
    p = ex.passage
    s0 = max(ex.sentence[0], ex.start - PERIOD_LOOKBACK_CHARS) - p.start
    before = p.text[s0 : ex.start - p.start]
    found = list(_PERIOD.finditer(before))
    if not found:
        return None
    m = found[-1]
    return m.group(0), p.start + s0 + m.start()


def extractive_answer(q: Query, ex: Extract, mode: str = "qa", origin: dict[str, str] | None = None) -> Answer:
    p = ex.passage
    quote = " ".join(ex.quote.split())
    clause = " ".join(ex.clause.split())
    who = subject(p, origin)
    start = ex.start
    period = period_phrase(ex)
    lead = who
    if period is not None:
        text_, at = period
        lead = f"{who}, {text_[:1].lower() + text_[1:]}"
        start = at
    if len(quote) <= INLINE_MAX_CHARS or not clause or clause == quote:
        text = f"{lead}: {sentence(quote)} [1]."
    else:
        # the direct answer first; the whole clause after it, verbatim, so nothing is out of context
        text = f"{lead}: {sentence(clause)} [1]. Nguyên văn: «{quote}» [1]."
    cit = make_citation(1, p, start, ex.end)
    return Answer(answer=text, refused=False, mode=mode, citations=[cit], path="extractive")


def conflict_answer(q: Query, extracts: list[Extract], origin: dict[str, str] | None = None) -> Answer:
    """Documents that give different figures for the same province, measure and period: each
    line names its document and cites its own span; none is silently preferred."""
    who = subject(extracts[0].passage, origin)
    lines = [f"{who}: các tài liệu ghi số liệu khác nhau:"]
    cits = []
    for n, ex in enumerate(extracts, start=1):
        quote = " ".join(ex.quote.split())
        lines.append(f"- {_doc_name(ex.passage)}: {sentence(quote)} [{n}].")
        cits.append(make_citation(n, ex.passage, ex.start, ex.end))
    ans = Answer(answer="\n".join(lines), refused=False, mode="qa", citations=cits, path="extractive")
    ans.notes.append("số liệu khác nhau giữa các tài liệu / the documents disagree on this figure")
    return ans


def sentence(span: str) -> str:
    """A verbatim span as the answer's sentence: capitalised, its own final stop dropped
    (the sentence ends after the marker: "… trên [1].", not "… trên. [1].")."""
    span = span.rstrip(" .;,:")
    return span[:1].upper() + span[1:]
