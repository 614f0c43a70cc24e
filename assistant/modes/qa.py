"""Mode "Hỏi đáp": a factual question answered by a verbatim span of one passage.

The figure, date, name or number is cut from the document (``assistant.extractive``), never
generated; several provinces asked at once get one line each; "ai ký / ai viết" reads the
signature or byline that closes a document. The LLM may only rephrase a non-figure answer, and
what it writes passes the grounding check first (``assistant.generation``).
"""

from __future__ import annotations

import re
import time

from assistant.citations import make_citation
from assistant.context import Context, Steps
from assistant.document_facts import answer_fact, intent_of
from assistant.extractive import MIN_COVERAGE, Extract, Scorer, answer_names, eligible, period_covers, tokens
from assistant.generation import Requirements, generate
from assistant.modes import learn
from assistant.phrasing import conflict_answer, extractive_answer, sentence, subject
from assistant.retrieval import Scope
from assistant.types import Answer, Citation, Passage
from assistant.understanding import PROVINCE_FIGURE_KINDS, Query
from ingest.chunking import sentence_spans
from ingest.provinces import NATIONAL, find_provinces, former_label

# A comparison must cover enough of the question in each province's passage to be that province's answer.
COMPARE_MIN_COVERAGE = 0.35

_SIGN = re.compile(r"\b(ký|ki|ky)\b", re.I)
_BYLINE_Q = re.compile(r"\b(ký|ki|ky|viết|tác giả|chức vụ|người ký|bút danh)\b", re.I)
_NAME = re.compile(r"(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]+\s){1,3}[A-ZĐÀ-Ỹ][a-zà-ỹđ]+|(?:[A-ZĐÀ-Ỹ]{2,}\s){1,3}[A-ZĐÀ-Ỹ]{2,}")
_ROLE_WORDS = re.compile(r"\b(BAN|THƯỜNG|VỤ|BÍ THƯ|CHỦ TỊCH|T/M|TM|KT|TỈNH|ỦY|UBND)\b")


def answer(ctx: Context, q: Query, scope: Scope) -> Steps:
    if learn.claims(ctx, q):
        yield from learn.answer(ctx, q, scope, mode="qa")
        return
    if scope.empty:
        yield "", ctx.refuse(q, scope, "qa")
        return
    if _compares(q, scope):
        yield "", compare(ctx, q, scope)
        return
    passages = ctx.search(q, scope)
    intent = intent_of(q.text)[0]
    # "số hiệu / ngày ban hành / ai ký / căn cứ / Điều N …": the document's anatomy
    # (but "tổng số bao nhiêu …" is a count, not a question about a document's number)
    if intent and not (intent == "number" and q.kind in PROVINCE_FIGURE_KINDS):
        fact = answer_fact(q, passages, ctx.corpus.in_scope(scope))
        if fact is not None:
            yield "", fact
            return
    if q.kind in ("who", "general") and _BYLINE_Q.search(q.text):
        ans = signer(ctx, q, scope)
        if ans:
            yield "", ans
            return
    t = time.perf_counter()
    ex, out_of_period = pick(ctx, q, scope, passages)
    ctx.timed("extract", t)
    if ex is None:
        detail = ""
        if out_of_period is not None:  # the refusal names the year asked; the document's own period is a note
            asked = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in q.years)
            detail = f"tài liệu có số liệu này nói về giai đoạn khác, không nói về {asked}"
        ans = ctx.refuse(q, scope, "qa", detail)
        if out_of_period is not None:
            ans.notes.append(_period_note(out_of_period))
        ans.retrieved_sources = [p.source for p in passages]
        yield "", ans
        return
    rivals = conflicting(ctx, q, ex, passages) if q.kind in PERIOD_KINDS else []
    if rivals:  # two documents disagree: both are shown, each with its source, flagged
        answer_ = conflict_answer(q, [ex, *rivals], origin=scope.origin)
        answer_.retrieved_sources = [p.source for p in passages]
        yield "", answer_
        return
    answer_ = extractive_answer(q, ex, origin=scope.origin)
    answer_.retrieved_sources = [p.source for p in passages]
    if period_covers(q, ex) is None and q.years:
        answer_.notes.append("tài liệu không nêu giai đoạn / the document states no period")
    if (q.wants_figure and not ctx.settings.rephrase_figures) or ctx.llm is None:
        yield "", answer_
        return
    yield answer_.answer, None  # the verified extractive answer shows at once
    needs = Requirements(
        figure=ex.figure.value if ex.figure is not None else None, names=answer_names(q, ex, ctx.idf)
    )
    yield from generate(ctx, "qa", q, [(1, ex.passage, ex.passage.text)], [answer_.citations[0]], answer_, needs)


def _own(p: Passage, scope: Scope) -> bool:
    """Is the passage the asked province's own (or, no province asked, any passage)?"""
    if scope.provinces:
        return p.province in scope.provinces
    return not scope.also


def _may_stand_in(q: Query, c: Extract, scope: Scope) -> bool:
    """May a span of a national or province-less document answer a question naming a province?

    The law applies everywhere, so it answers general questions. A province's statistic comes
    from that province's documents; from another document only when the figure's own sentence
    names the province asked and no other ("Trường … thành phố Hà Nội bế giảng 05 lớp …" in a
    national bulletin), or when the document is filed under no province, names none, and the
    province asked has documents of its own (a document nobody tagged, answering what they lack)."""
    if not q.provinces or q.kind not in PROVINCE_FIGURE_KINDS:
        return True
    p = c.passage
    sentence = p.text[c.sentence[0] - p.start : c.sentence[1] - p.start]
    asked = set(q.provinces) | set(scope.provinces or [])
    in_sentence = set(find_provinces(sentence))
    if in_sentence:
        return in_sentence <= asked
    if p.province != "":
        return False
    return not find_provinces(f"{p.title}\n{p.text}") and bool(scope.provinces)


def pick(
    ctx: Context, q: Query, scope: Scope, passages: list[Passage], min_coverage: float = MIN_COVERAGE
) -> tuple[Extract | None, Extract | None]:
    """(the answer's span, or None; the best span refused for its period, if that is why).

    The asked province's own documents first; national and province-less documents only when
    those do not answer. A figure whose document (or sentence) speaks of another period than the
    one asked is no answer to it ("Năm 2030 … bao nhiêu?" is not answered with 2012–2020's count).
    """
    own = [p for p in passages if _own(p, scope)]
    other = [p for p in passages if not _own(p, scope)]
    leads = doc_leads(ctx, passages)
    rejected: Extract | None = None
    for group in (own, other):
        for c in eligible(q, group, ctx.idf, min_coverage, leads):
            if group is other and not _may_stand_in(q, c, scope):
                continue
            if q.kind in PERIOD_KINDS and period_covers(q, c, leads.get(c.passage.doc_id, "")) is False:
                rejected = rejected or c
                continue
            return c, None
    return None, rejected


# How much of a document's opening every passage of it inherits as its topic: a news page's
# headline and sapo, a report's heading — its first sentences, at most this many characters.
DOC_LEAD_SENTENCES = 2
DOC_LEAD_CHARS = 300


def doc_leads(ctx: Context, passages: list[Passage]) -> dict[str, str]:
    """The opening of each document the passages come from (its first passage's first characters)."""
    out: dict[str, str] = {}
    for p in passages:
        if p.doc_id in out:
            continue
        first = p if p.start == 0 else min(ctx.corpus.document(p.doc_id) or [p], key=lambda d: d.start)
        spans = sentence_spans(first.text, 0, len(first.text))[:DOC_LEAD_SENTENCES]
        out[p.doc_id] = first.text[: min(spans[-1][1] if spans else 0, DOC_LEAD_CHARS)]
    return out


# A rival figure from another document is an answer as good as the best when it scores within this
# margin and its noun matches as well (the same measure), so a disagreement is shown, not hidden.
CONFLICT_SCORE_MARGIN = 0.15
CONFLICT_AFTER_MARGIN = 0.1
_YEARS = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def conflicting(ctx: Context, q: Query, best: Extract, passages: list[Passage]) -> list[Extract]:
    """Figures for the same province, measure and period from other documents that differ from
    the best one's (one per document)."""
    if best.figure is None or best.passage.province in ("", NATIONAL):
        return []
    prov = best.passage.province
    others = [p for p in passages if p.doc_id != best.passage.doc_id and p.province == prov]
    if not others:
        return []
    best_years = set(_YEARS.findall(_sentence_of(best)))
    out: dict[str, Extract] = {}
    for c in eligible(q, others, ctx.idf, leads=doc_leads(ctx, others)):
        f = c.figure
        if f is None or f.kind != best.figure.kind or f.value == best.figure.value:
            continue
        if c.score < best.score - CONFLICT_SCORE_MARGIN:
            continue
        if c.features.get("after", 0.0) < best.features.get("after", 0.0) - CONFLICT_AFTER_MARGIN:
            continue
        years = set(_YEARS.findall(_sentence_of(c)))
        if best_years and years and not best_years & years:
            continue  # each states its own, different year: two periods, no disagreement
        if period_covers(q, c) is False:
            continue
        out.setdefault(c.passage.doc_id, c)
    return list(out.values())


def _sentence_of(ex: Extract) -> str:
    p = ex.passage
    return p.text[ex.sentence[0] - p.start : ex.sentence[1] - p.start]


# Question kinds whose answer is a figure of some period: the period asked must be the figure's.
PERIOD_KINDS = frozenset({"count", "percent", "money"})


def _period_note(ex: Extract) -> str:
    p = ex.passage
    own = p.period or ", ".join(dict.fromkeys(_YEARS.findall(p.title))) or "?"
    return f"«{p.title}» ({p.source}) nói về giai đoạn {own} / the document covers {own}"


def _compares(q: Query, scope: Scope) -> bool:
    """One line per province: two provinces asked (or chosen in the filters), or one current
    province whose former parts each hold their own figure."""
    if not scope.provinces or len(scope.provinces) < 2 or q.kind in ("general", "who", "where"):
        return False
    if not scope.origin:  # the UI's filters
        return True
    asked = set(scope.origin.values())
    return len(asked) >= 2 or q.kind in PROVINCE_FIGURE_KINDS


def compare(ctx: Context, q: Query, scope: Scope) -> Answer:
    """One line per province asked, each from that province's own documents."""
    lines: list[str] = []
    cits: list[Citation] = []
    sources: list[str] = []
    for prov in scope.provinces or []:
        sub = Scope(provinces=[prov], doc_ids=scope.doc_ids)
        passages = ctx.search(q, sub)
        sources += [p.source for p in passages]
        ex, _ = pick(ctx, q, sub, passages, COMPARE_MIN_COVERAGE)
        asked = scope.origin.get(prov, prov)
        label = prov if asked == prov else former_label(prov, asked)
        if ex is None:
            lines.append(f"- {label}: tài liệu hiện có không có thông tin này.")
            continue
        n = len(cits) + 1
        cits.append(make_citation(n, ex.passage, ex.start, ex.end))
        lines.append(f"- {label}: {sentence(' '.join(ex.quote.split()))} [{n}].")
    if not cits:
        ans = ctx.refuse(q, scope, "qa")
    else:
        ans = Answer(answer="\n".join(lines), refused=False, mode="qa", citations=cits, path="extractive")
    ans.retrieved_sources = sources
    return ans


def byline(p: Passage) -> tuple[str, str, tuple[int, int]] | None:
    """(name, role, span in passage) of a signature/author block at the end of a passage."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in p.text.split("\n"):
        if line.strip():
            a = pos + len(line) - len(line.lstrip())
            lines.append((a, pos + len(line.rstrip())))
        pos += len(line) + 1
    tail = lines[-4:]
    for i in range(len(tail) - 1, -1, -1):
        a, b = tail[i]
        text = p.text[a:b].strip("* ")
        if not _NAME.fullmatch(text) or _ROLE_WORDS.search(text):
            continue
        start, end = a, b
        role = ""
        if i + 1 < len(tail) and p.text[tail[i + 1][0]] == "(":
            role = p.text[tail[i + 1][0] : tail[i + 1][1]].strip("() ")
            end = tail[i + 1][1]
        else:
            above = [t for t in tail[:i] if p.text[t[0] : t[1]].strip("* ").isupper()]
            if above:
                role = " ".join(p.text[x[0] : x[1]].strip("* ") for x in above)
                start = above[0][0]
        return text, " ".join(role.split()), (start, end)
    return None


def signer(ctx: Context, q: Query, scope: Scope) -> Answer | None:
    """ "Ai ký / ai viết …?": the signature or byline closes the document, where no question word occurs."""
    last: dict[str, Passage] = {}
    for p in ctx.corpus.in_scope(scope):
        if p.doc_id not in last or p.start > last[p.doc_id].start:
            last[p.doc_id] = p
    scorer = Scorer(q, ctx.idf)
    ranked = sorted(last.values(), key=lambda p: -scorer.coverage(tokens(p.title + " " + p.text)))
    for p in ranked:
        found = byline(p)
        if found is None:
            continue
        name, role, (a, b) = found
        cit = make_citation(1, p, p.start + a, p.start + b)
        who = f"đồng chí {name}" if name.istitle() else name
        verb = "ký" if _SIGN.search(q.text) and re.search(r"T/M|TM\.|KT\.", p.text) else "là tác giả"
        role_txt = f" ({role})" if role else ""
        text = f"{subject(p)}: {who}{role_txt} {verb} [1]."
        return Answer(answer=text, refused=False, mode="qa", citations=[cit], path="extractive")
    return None
