"""Mode "Soạn giải pháp": a "giải pháp" section drafted from what other provinces did.

Each bullet is one measure cut verbatim from a cited document and credited to that document's
province; the draft draws on several provinces. The LLM may rewrite the draft; its text must
still cite at least two provinces and pass the grounding check, or the extractive draft stands.
"""

from __future__ import annotations

import re

from assistant.citations import MARKER, make_citation, markers, renumber
from assistant.context import Context, Steps
from assistant.extractive import Scorer, tokens
from assistant.figures import extract_figures
from assistant.generation import Requirements, generate
from assistant.injection import clean_sentence_spans
from assistant.retrieval import Scope
from assistant.support import Similarity, bullet_body, check_bullet, is_duplicate
from assistant.types import Answer, Citation, Passage
from assistant.understanding import Query
from ingest.provinces import find_provinces

# Words that bring measures (not results) to the top of the search for a drafting topic.
DRAFT_QUERY_SUFFIX = " giải pháp nhiệm vụ tăng cường đổi mới"
DRAFT_CANDIDATES = 24  # passages searched: enough for several provinces to appear
MAX_BULLETS = 6  # a "giải pháp" section an official can read at a glance
MAX_PER_DOC = 2  # no single document dominates the draft
MIN_SENTENCE_CHARS = 60  # shorter sentences are headings or fragments, not measures
# Sentence scoring (added to the question-coverage score, which is 0..1):
MEASURE_BONUS = 0.3  # the sentence opens a measure with an action verb ("tăng cường", "đổi mới" …)
FIGURE_PENALTY = 0.15  # per figure, up to 3: figures mark results, not measures
ORDINAL_BONUS = 0.2  # "Một là …", "1." …: the document itself enumerates measures
SOLUTION_SECTION_BONUS = 0.2  # the passage sits under a "giải pháp / nhiệm vụ" heading
RANK_BONUS = 0.2  # divided by (1 + retrieval rank): a tie-break toward better-retrieved passages
BULLET_CLAUSE_CHARS = 240  # a longer measure is cut at its first ";" after this many characters

_MEASURE = re.compile(
    r"\b(tăng cường|đổi mới|nâng cao|xây dựng|đa dạng hóa|đa dạng hoá|chú trọng|quan tâm|tiếp tục|bổ sung|"
    r"thực hiện|phối hợp|ưu tiên|quán triệt|đầu tư|mở các lớp|luân chuyển|thí điểm|cần|phấn đấu)\b",
    re.I,
)
_ORDINAL = re.compile(
    r"^(?:Một là|Hai là|Ba là|Bốn là|Năm là|Sáu là|Thứ \w+|\d{1,2}[.)]|[IVX]+\.)[,:.]?\s*", re.I
)
_LEAD_IN = re.compile(r"^(?:Đồng thời|Bên cạnh đó|Từ đó|Trên cơ sở đó|Ngoài ra|Tuy nhiên)\s*,\s*", re.I)
_SOLUTION_SECTION = re.compile(r"giải pháp|nhiệm vụ|đổi mới|tổ chức thực hiện", re.I)
# A province's own bodies and programmes named without the province: "Tỉnh ủy", "UBND tỉnh",
# "Ban Thường vụ", "toàn tỉnh", "Đề án 02" … (whose they are depends on who wrote the text).
_LOCAL_REFERENCE = re.compile(
    r"\b(?:Tỉnh ủy|Tỉnh uỷ|Thành ủy|Thành uỷ|UBND tỉnh|Ủy ban nhân dân tỉnh|HĐND tỉnh|Hội đồng nhân dân tỉnh|"
    r"Ban Thường vụ|Ban Chấp hành Đảng bộ tỉnh|của tỉnh|toàn tỉnh|trong tỉnh|tỉnh ta|Đề án(?: số)? \d+)",
)


def answer(ctx: Context, q: Query, scope: Scope) -> Steps:
    topic_q = Query(**{**q.__dict__, "search_text": q.search_text + DRAFT_QUERY_SUFFIX})
    explicit = [p for p in (scope.provinces or []) if p not in q.provinces]
    wide = Scope(provinces=explicit or None, doc_ids=scope.doc_ids)
    passages = ctx.search(topic_q, wide, DRAFT_CANDIDATES)
    chosen = choose_measures(ctx, q, passages)
    if not chosen:
        yield "", ctx.refuse(q, scope, "draft")
        return
    cits: list[Citation] = []
    bullets: list[str] = []
    for p, (s, e) in chosen:
        cit = make_citation(len(cits) + 1, p, s, measure_end(p, s, e))
        line = bullet_line(cit)
        if is_duplicate(bullet_body(line), [bullet_body(b) for b in bullets]):
            continue  # the same measure from another document or chunk: once is enough
        if not check_bullet(line, [cit]).ok:  # the span's own words: no e5 needed (it is for rewrites)
            continue
        cits.append(cit)
        bullets.append(line)
    if not cits:
        yield "", ctx.refuse(q, scope, "draft")
        return
    provs = sorted({c.province for c in cits if c.province})
    # the request is not echoed: its years and figures ("năm 2025") are the reader's, not the sources'
    intro = f"Trên cơ sở kinh nghiệm của {', '.join(provs)}, đề xuất một số giải pháp:"
    fallback = Answer(
        answer="\n".join([intro, *bullets]),
        refused=False,
        mode="draft",
        citations=cits,
        path="extractive",
        retrieved_sources=[p.source for p in passages],
    )
    if ctx.llm is None:
        yield "", fallback
        return
    yield fallback.answer, None  # the verified extractive draft shows at once, the LLM's follows
    items = [(c.n, c.passage, c.quote) for c in cits]
    needs = Requirements(min_provinces=min(2, len(provs)))
    for text, ans in generate(ctx, "draft", q, items, cits, fallback, needs):
        if ans is not None and ans.path == "llm":
            ans = with_numbering_of(enforce_support(ans, ctx.similarity), cits)
        yield text, ans


def with_numbering_of(ans: Answer, original: list[Citation]) -> Answer:
    """The LLM's draft numbered as the extractive draft shown before it (and as the LLM itself
    wrote while streaming): each [n] keeps pointing at the same span, and the sources are that
    draft's, so nothing a reader saw a moment ago changes its reference."""
    number = {(c.passage.chunk_id, c.start, c.end): c.n for c in original}
    spans = {c.n: (c.passage.chunk_id, c.start, c.end) for c in ans.citations}
    remap = {n: number[span] for n, span in spans.items() if span in number}
    ans.answer = MARKER.sub(lambda m: f"[{remap.get(int(m.group(1)), int(m.group(1)))}]", ans.answer)
    ans.citations = list(original)
    return ans


def bullet_line(c: Citation) -> str:
    """A measure as a draft bullet: the span's own words, credited to its document's province.

    A span that speaks of "the province's" bodies or programmes without naming the province
    ("Đề án 02 của Ban Thường vụ Tỉnh ủy") is opened with "Tại <tỉnh>," so that a reader does not
    take another province's Tỉnh ủy for their own."""
    body = _LEAD_IN.sub("", _ORDINAL.sub("", " ".join(c.quote.split()))).rstrip(" .;,:")
    where = c.province or c.title
    if c.province and _LOCAL_REFERENCE.search(body) and c.province not in find_provinces(body):
        words = body.split(" ", 2)
        proper_start = len(words) > 1 and words[1][:1].isupper()
        body = f"Tại {c.province}, {body if proper_start else body[:1].lower() + body[1:]}"
        return f"- {body} [{c.n}]."
    body = body[:1].upper() + body[1:]
    return f"- {body} ({where}) [{c.n}]."


def enforce_support(ans: Answer, similarity: Similarity | None) -> Answer:
    """Every bullet of an LLM draft backed by the span it cites, or rewritten from that span, or
    dropped; no bullet twice. The reasons go to ``notes``."""
    out: list[str] = []
    kept: list[str] = []
    fixed: list[str] = []
    by_n = {c.n: c for c in ans.citations}
    for line in ans.answer.split("\n"):
        ns = [n for n in markers(line) if n in by_n]
        if not ns:
            out.append(line)
            continue
        verdict = check_bullet(line, ans.citations, similarity)
        if not verdict.ok:
            line = bullet_line(by_n[ns[0]])  # rewritten from its own span
            fixed.append(f"[{ns[0]}] {verdict.reason}")
        if is_duplicate(bullet_body(line), kept):
            continue
        kept.append(bullet_body(line))
        out.append(line)
    text, cits = renumber("\n".join(out), ans.citations)
    if fixed:
        ans.notes.append("Ý viết lại theo đúng đoạn được trích: " + "; ".join(fixed))
    ans.answer, ans.citations = text, cits
    return ans


def choose_measures(ctx: Context, q: Query, passages: list[Passage]) -> list[tuple[Passage, tuple[int, int]]]:
    """The best measure sentence of each passage, then one per province first, at most
    ``MAX_PER_DOC`` per document and ``MAX_BULLETS`` in all."""
    scorer = Scorer(q, ctx.idf)
    picks: list[tuple[Passage, tuple[int, int], float]] = []
    for rank, p in enumerate(passages):
        best: tuple[tuple[int, int], float] | None = None
        in_solutions = bool(_SOLUTION_SECTION.search(p.section))
        for s, e in clean_sentence_spans(p.text):  # instructions in documents, and their payload, skipped
            sent = p.text[s:e]
            if len(sent) < MIN_SENTENCE_CHARS:
                continue
            score = scorer.coverage(tokens(sent)) + (MEASURE_BONUS if _MEASURE.search(sent) else 0.0)
            score -= FIGURE_PENALTY * min(3, len(extract_figures(sent)))
            score += ORDINAL_BONUS if _ORDINAL.match(sent) else 0.0
            score += SOLUTION_SECTION_BONUS if in_solutions else 0.0
            score += RANK_BONUS / (1 + rank)
            if best is None or score > best[1]:
                best = ((p.start + s, p.start + e), score)
        if best:
            picks.append((p, best[0], best[1]))
    picks.sort(key=lambda x: -x[2])
    chosen: list[tuple[Passage, tuple[int, int]]] = []
    per_doc: dict[str, int] = {}
    provinces_seen: set[str] = set()
    # first pass: one measure per province, so the draft draws on several provinces
    for p, span, _ in picks:
        if p.province and p.province not in provinces_seen:
            chosen.append((p, span))
            provinces_seen.add(p.province)
            per_doc[p.doc_id] = 1
    for p, span, _ in picks:
        if len(chosen) >= MAX_BULLETS:
            break
        if (p, span) in chosen or per_doc.get(p.doc_id, 0) >= MAX_PER_DOC:
            continue
        chosen.append((p, span))
        per_doc[p.doc_id] = per_doc.get(p.doc_id, 0) + 1
    return chosen[:MAX_BULLETS]


def measure_end(p: Passage, start: int, end: int, limit: int = BULLET_CLAUSE_CHARS) -> int:
    """End a long measure at its first clause (";"), so a bullet stays one readable point."""
    text = p.text[start - p.start : end - p.start]
    if len(text) <= limit:
        return end
    cut = text.find(";", 60)
    return start + cut if 0 < cut <= limit + 80 else end
