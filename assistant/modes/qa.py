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
from assistant.extractive import Scorer, best_extract, tokens
from assistant.generation import Requirements, generate
from assistant.modes import learn
from assistant.phrasing import extractive_answer, sentence
from assistant.retrieval import Scope
from assistant.types import Answer, Citation, Passage
from assistant.understanding import Query

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
    if scope.provinces and len(scope.provinces) >= 2 and q.kind not in ("general", "who", "where"):
        yield "", compare(ctx, q, scope)
        return
    passages = ctx.search(q, scope)
    if intent_of(q.text)[0]:  # "số hiệu / ngày ban hành / ai ký / căn cứ / Điều N …": the document's anatomy
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
    ex = best_extract(q, passages, ctx.idf)
    ctx.timed("extract", t)
    if ex is None:
        ans = ctx.refuse(q, scope, "qa")
        ans.retrieved_sources = [p.source for p in passages]
        yield "", ans
        return
    answer_ = extractive_answer(q, ex)
    answer_.retrieved_sources = [p.source for p in passages]
    if (q.wants_figure and not ctx.settings.rephrase_figures) or ctx.llm is None:
        yield "", answer_
        return
    yield answer_.answer, None  # the verified extractive answer shows at once
    needs = Requirements(figure=ex.figure.value if ex.figure is not None else None)
    yield from generate(ctx, "qa", q, [(1, ex.passage, ex.passage.text)], [answer_.citations[0]], answer_, needs)


def compare(ctx: Context, q: Query, scope: Scope) -> Answer:
    """One line per province asked, each from that province's own documents."""
    lines: list[str] = []
    cits: list[Citation] = []
    sources: list[str] = []
    for prov in scope.provinces or []:
        sub = Scope(provinces=[prov], doc_ids=scope.doc_ids)
        passages = ctx.search(q, sub)
        sources += [p.source for p in passages]
        ex = best_extract(q, passages, ctx.idf, min_coverage=COMPARE_MIN_COVERAGE)
        if ex is None:
            lines.append(f"- {prov}: tài liệu hiện có không có thông tin này.")
            continue
        n = len(cits) + 1
        cits.append(make_citation(n, ex.passage, ex.start, ex.end))
        lines.append(f"- {prov}: {sentence(ex.quote.strip())} [{n}].")
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
        text = f"{p.province or p.title}: {who}{role_txt} {verb} [1]."
        return Answer(answer=text, refused=False, mode="qa", citations=[cit], path="extractive")
    return None
