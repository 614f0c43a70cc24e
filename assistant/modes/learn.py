"""Mode "Tìm hiểu": what new staff ask — abbreviations, the regulations the corpus cites,
summaries of a document, and the best explaining sentence for a term or topic.

Abbreviations come from the corpus's own definitions or uses (``assistant.glossary``), with the
built-in list as the fallback; a regulation list has no computed count (no passage states one).
"""

from __future__ import annotations

import re

from assistant import glossary
from assistant.citations import make_citation
from assistant.context import Context, Steps
from assistant.extractive import Scorer, best_extract, tokens
from assistant.figures import extract_figures
from assistant.generation import generate
from assistant.injection import clean_sentence_spans
from assistant.phrasing import extractive_answer
from assistant.retrieval import Scope
from assistant.types import Answer, Citation, Passage
from assistant.understanding import Query

SUMMARY_POINTS = 6  # at most one point per section, this many sections
SUMMARY_SEARCH_K = 3  # the summarised document is the best of these passages
SHORT_SENTENCE_CHARS = 40  # a summary point shorter than this is usually a heading
SHORT_PENALTY = 0.5
FIGURE_BONUS = 0.1  # per figure, up to 3: a point with figures says more about results
LLM_CONTEXT_PASSAGES = 2  # passages the LLM may rephrase a term's explanation from
_NOI_NHAN = re.compile(r"nơi nhận", re.I)


def claims(ctx: Context, q: Query) -> bool:
    """A "qa" question that is really a learning one (a summary, or "X là gì?" for a known abbreviation)."""
    if glossary.is_summary_question(q.text):
        return True
    return bool(glossary.find_abbreviation(q.text, ctx.corpus.glossary)) and bool(
        glossary.ABBR_QUESTION.search(q.text)
    )


def answer(ctx: Context, q: Query, scope: Scope, mode: str = "learn") -> Steps:
    entry = glossary.find_abbreviation(q.text, ctx.corpus.glossary)
    if entry is not None:
        yield "", explain_abbreviation(entry, mode)
        return
    if glossary.is_summary_question(q.text):
        ans = summarize(ctx, q, scope)
        if ans:
            ans.mode = mode
            yield "", ans
            return
    if glossary.is_regulation_question(q.text):
        ans = list_regulations(ctx, q, scope)
        ans.mode = mode
        yield "", ans
        return
    # a term or topic: the best explaining sentence, optionally rephrased by the LLM
    passages = ctx.search(q, scope)
    gq = Query(**{**q.__dict__, "kind": "general"})
    ex = best_extract(gq, passages, ctx.idf)
    if ex is None:
        yield "", ctx.refuse(q, scope, mode)
        return
    base = extractive_answer(gq, ex, mode)
    if ctx.llm is None:
        yield "", base
        return
    chosen = passages[:LLM_CONTEXT_PASSAGES]
    items = [(i + 1, p, p.text) for i, p in enumerate(chosen)]
    cits = [make_citation(i + 1, p) for i, p in enumerate(chosen)]
    yield from generate(ctx, "learn", q, items, cits, base)


def explain_abbreviation(e: glossary.GlossaryEntry, mode: str) -> Answer:
    if e.passage is None or e.span is None:
        text = f"{e.abbr} là viết tắt của «{e.expansion}» (theo bảng chữ viết tắt của Trợ lý; kho tài liệu chưa dùng chữ này)."
        return Answer(answer=text, refused=False, mode=mode, path="extractive")
    cit = make_citation(1, e.passage, *e.span)
    where = e.passage.province or e.passage.title
    if e.defined_in_corpus:
        text = f"{e.abbr} là viết tắt của «{e.expansion}» — tài liệu của {where} định nghĩa: «{cit.quote}» [1]."
    else:
        text = (
            f"{e.abbr} là viết tắt của «{e.expansion}» (theo bảng chữ viết tắt của Trợ lý). "
            f"Ví dụ dùng trong tài liệu của {where}: «{' '.join(cit.quote.split())}» [1]."
        )
    return Answer(answer=text, refused=False, mode=mode, citations=[cit], path="extractive")


def list_regulations(ctx: Context, q: Query, scope: Scope) -> Answer:
    regs = ctx.corpus.regulations
    if scope.provinces:
        regs = [r for r in regs if r.passage.province in scope.provinces]
    nums = {n.upper() for n in re.findall(r"\d+[-/][\wĐđ/.-]+", q.text)}
    if nums:
        regs = [r for r in regs if r.number.upper() in nums] or regs
    if not regs:
        return ctx.refuse(q, scope, "learn", "không tìm thấy văn bản được viện dẫn")
    lines = ["Các văn bản được viện dẫn trong kho tài liệu:"]  # no computed count: not in any passage
    cits: list[Citation] = []
    for i, r in enumerate(regs, 1):
        cits.append(make_citation(i, r.passage, *r.span))
        parts = [r.label]
        if r.date:
            parts.append(f"ngày {r.date}")
        if r.issuer:
            parts.append(f"của {r.issuer}")
        desc = ", ".join(parts)
        if r.about:
            desc += f" — về {r.about}"
        lines.append(f"- {desc} ({r.passage.province or r.passage.title}) [{i}].")
    return Answer(answer="\n".join(lines), refused=False, mode="learn", citations=cits, path="extractive")


def summarize(ctx: Context, q: Query, scope: Scope) -> Answer | None:
    """One point per section of the best-matching document, each a verbatim sentence."""
    passages = ctx.search(q, scope, SUMMARY_SEARCH_K)
    if not passages:
        return None
    doc = ctx.corpus.document(passages[0].doc_id)
    sections: dict[str, Passage] = {}
    for p in doc:
        if not _NOI_NHAN.search(p.section):
            sections.setdefault(p.section, p)
    picks = list(sections.values())[:SUMMARY_POINTS]
    if len(picks) < 3:
        picks = doc[: min(5, len(doc))]
    head = doc[0]
    lines = [f"Tóm tắt «{head.title}» ({head.doc_type or 'tài liệu'}, {head.province or 'không rõ tỉnh'}):"]
    cits: list[Citation] = []
    scorer = Scorer(q, ctx.idf)

    def fit(p: Passage, se: tuple[int, int]) -> float:
        sent = p.text[se[0] : se[1]]
        short = SHORT_PENALTY if len(sent) < SHORT_SENTENCE_CHARS else 0.0
        return scorer.coverage(tokens(sent)) + FIGURE_BONUS * min(3, len(extract_figures(sent))) - short

    for p in picks:
        spans = clean_sentence_spans(p.text)  # instructions in documents, and their payload, skipped
        if not spans:
            continue
        s, e = max(spans, key=lambda se, p=p: fit(p, se))  # type: ignore[misc]
        n = len(cits) + 1
        cits.append(make_citation(n, p, p.start + s, p.start + e))
        label = f"{p.section}: " if p.section and len(p.section) <= 70 else ""
        lines.append(f"- {label}{' '.join(cits[-1].quote.split())} [{n}]")
    if not cits:
        return None
    return Answer(answer="\n".join(lines), refused=False, mode="learn", citations=cits, path="extractive")
