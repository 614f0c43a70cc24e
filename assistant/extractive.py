"""The extractive path: answer factual questions with a span cut from the best passage.

Figures are never generated: the answer's figure is the one written in the cited span,
chosen by how well the words around it match the question (in Vietnamese the noun
follows the number: "935 cán bộ học thạc sỹ"). When nothing matches well enough the
question is refused rather than answered from a neighbouring figure.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.figures import Figure, extract_figures
from assistant.injection import clean_sentence_spans, is_instruction
from assistant.types import Passage
from assistant.understanding import Query, abbreviations
from ingest.chunking import sentence_spans
from ingest.normalize import fold, strip_accents

_WORD = re.compile(r"[a-z0-9]+")
_BOUNDARY = re.compile(r"[;:()\[\]]")
_LEADING_JUNK = re.compile(
    r"^(?:[\s,.;:–+*•-]|và\s|với\s|còn\s|trong đó,?\s|\d{1,2}[.)-]\s|[a-zđ]\)\s|[IVX]{1,4}[.-]\s)+", re.I
)
_PERSON = re.compile(r"(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]+\s){1,3}[A-ZĐÀ-Ỹ][a-zà-ỹđ]+")

# Which figure kinds answer which question kinds.
_KINDS = {
    "count": {"number"},
    "percent": {"percent"},
    "money": {"money"},
    "date": {"date"},
    "year": {"year_range", "number"},
    "docnum": {"docnum"},
    "duration": {"number"},  # a number followed by its unit of time ("6 tháng", "30 ngày")
}
_TIME_UNITS = ("ngày", "tuần", "tháng", "năm", "buổi", "giờ")
_TIME_UNIT = re.compile(rf"\s*(?:{'|'.join(_TIME_UNITS)})(?!\w)", re.I)
_TIME_WORDS = {fold(w) for w in _TIME_UNITS}  # as question targets read them (folded: ngày → ngài)


def _grams(bare: str) -> set[str]:
    words = _WORD.findall(bare)
    return set(words) | {f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)}


@lru_cache(maxsize=1)
def _abbrev_pairs() -> list[tuple[re.Pattern[str], set[str], re.Pattern[str], set[str]]]:
    pairs = []
    for abbr, long in abbreviations().items():
        a, lg = strip_accents(abbr), strip_accents(long)
        a_pat = re.compile(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])")
        l_pat = re.compile(rf"(?<![a-z0-9]){re.escape(lg)}(?![a-z0-9])")
        pairs.append(
            (a_pat, _grams(a) | _grams_accented(fold(abbr)), l_pat, _grams(lg) | _grams_accented(fold(long)))
        )
    return pairs


def tokens(text: str) -> set[str]:
    """Unigrams and bigrams in both accented (folded) and accent-free form, abbreviations both ways.

    ``Query.terms`` are accented when the question is, so "sơ cấp" does not match "số"; an
    accent-free question matches the accent-free forms. "LLCT" in a passage also yields the
    tokens of "lý luận chính trị" and vice versa, so a question may use either form.
    """
    folded = fold(text)
    bare = strip_accents(folded)
    out = _grams(bare) | _grams_accented(folded)
    for a_pat, a_toks, l_pat, l_toks in _abbrev_pairs():
        if a_pat.search(bare):
            out |= l_toks
        if l_pat.search(bare):
            out |= a_toks
    return out


_AWORD = re.compile(r"[^\W_]+", re.UNICODE)


def _grams_accented(folded: str) -> set[str]:
    words = _AWORD.findall(folded)
    return set(words) | {f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)}


def idf_table(texts: Iterable[str]) -> dict[str, float]:
    """Inverse document frequency over passages: rare terms ("thạc sĩ") weigh more than "đào tạo"."""
    df: Counter[str] = Counter()
    n = 0
    for t in texts:
        n += 1
        df.update(tokens(t))
    return {t: math.log(1 + n / c) for t, c in df.items()}


@dataclass
class Extract:
    passage: Passage
    start: int  # absolute offsets of the cited span in the document
    end: int
    sentence: tuple[int, int]
    figure: Figure | None
    score: float
    coverage: float
    features: dict[str, float] = field(default_factory=dict)  # why this span won (eval report, debugging)
    narrow: tuple[int, int] | None = None  # the figure's own clause, inside [start:end]

    @property
    def quote(self) -> str:
        return self.passage.text[self.start - self.passage.start : self.end - self.passage.start]

    @property
    def clause(self) -> str:
        """The figure's own clause (the direct answer); the whole quote when there is none."""
        if self.narrow is None:
            return self.quote
        return self.passage.text[self.narrow[0] - self.passage.start : self.narrow[1] - self.passage.start]


FLOOR = 1.0
_YEARISH = re.compile(r"(?:19|20)\d{2}")


class Scorer:
    def __init__(self, query: Query, idf: dict[str, float]) -> None:
        # years and other numbers in the question are matched by the year boost, not as words
        self.terms = [t for t in query.terms if not any(_YEARISH.fullmatch(part) for part in t.split("_"))]
        self.idf = idf
        self.default = max(idf.values()) if idf else 1.0
        self.total = sum(self.weight(t) for t in self.terms) or 1.0

    def weight(self, term: str) -> float:
        # a matched word pair says more than two syllables; an unseen pair says nothing.
        # Common words keep a floor weight: "đào tạo" still tells "đào tạo" from "bồi dưỡng".
        if "_" in term:
            return 1.6 * max(self.idf[term], FLOOR) if term in self.idf else 0.0
        return max(self.idf.get(term, self.default), FLOOR)

    def coverage(self, toks: set[str]) -> float:
        return sum(self.weight(t) for t in self.terms if t in toks) / self.total


def _is_year_like(fig: Figure, sentence: str, rel: int) -> bool:
    if fig.kind != "number" or not re.fullmatch(r"(19|20)\d{2}", fig.raw):
        return False
    before = sentence[max(0, rel - 14) : rel].lower()
    return any(w in before for w in ("năm", "khóa", "khoá", "giai đoạn", "-", "–", "/", "đến", "kỳ"))


# A figure's clause runs at most this many words past the figure before it is cut at a comma
# (reports chain long clauses; a whole phrase is kept, never "… kiến thức Cao").
CLAUSE_MAX_WORDS = 30
# How many words after a figure its score reads (the noun phrase it counts and its qualifiers).
SCORE_WINDOW_WORDS = 14
# The lead words of the next enumerated item: a comma or a coordinating word and up to two words
# before the next figure ("…, 160 cán bộ", "… và mở 2 lớp").
_NEXT_ITEM_LEAD = re.compile(r"(?:,|;|\s(?:và|với|còn|hoặc|nhưng|trong đó))(?:\s+[^\s\d,;]+){0,2}\s*$")


def _phrases(
    sentence: str, rel_start: int, rel_end: int, figs: list[tuple[int, int]]
) -> tuple[int, int, int]:
    """(left, right, segment_start) of the clause around a figure.

    Vietnamese puts the noun after the number ("935 cán bộ học thạc sỹ"), so the clause
    runs from the last boundary, comma, "và" or earlier figure up to the next figure or
    boundary. A label ending in ":" right before the figure ("Hàn Quốc: 30") belongs to it.
    """
    seg = 0
    for m in _BOUNDARY.finditer(sentence[:rel_start]):
        if m.group(0) == ":" and rel_start - m.end() <= 2:
            continue  # "Hàn Quốc: 30"
        seg = m.end()
    left = seg
    comma = sentence.rfind(",", left, rel_start)
    if comma != -1 and rel_start - comma < 60:
        left = comma + 1
    conj = sentence.rfind(" và ", left, rel_start)
    if conj != -1:
        left = conj + 4
    for _fs, fe in figs:
        if left < fe <= rel_start:
            left = fe
    right = len(sentence)
    nxt = _BOUNDARY.search(sentence, rel_end)
    if nxt:
        right = nxt.start()
    by_figure = False
    for fs, _ in figs:
        if rel_end <= fs < right:
            right, by_figure = fs, True
    if by_figure:
        # the next figure opens the next item: its lead words ("…, và mở 2 lớp") belong to it
        lead = _NEXT_ITEM_LEAD.search(sentence, rel_end, right)
        if lead:
            right = lead.start()
    words = list(re.finditer(r"\S+", sentence[rel_end:right]))
    if len(words) > CLAUSE_MAX_WORDS:
        # a long tail is cut where the sentence itself pauses (a comma), never inside a phrase
        window = sentence[rel_end : rel_end + words[CLAUSE_MAX_WORDS - 1].end()]
        comma = window.rfind(",")
        if comma > 0:
            right = rel_end + comma
    return left, right, seg


# Nouns that count people: "bao nhiêu người" is answered by "… 15 đồng chí".
_PERSON_UNITS = {
    "người",
    "đồng_chí",
    "cán_bộ",
    "học_viên",
    "lượt",
    "trường_hợp",
    "công_chức",
    "đảng_viên",
    "nguoi",
    "dong_chi",
    "can_bo",
    "hoc_vien",
    "luot",
    "truong_hop",
    "cong_chuc",
    "dang_vien",
}


def _counts_target(targets: list[str], toks: set[str]) -> bool:
    """The figure counts what the question counts (the noun after "bao nhiêu")."""
    for t in targets:
        # "bao nhiêu lớp bồi dưỡng" is counted by "5 lớp"; but a person noun is one two-syllable
        # word whose first syllable alone means something else ("học" in "lớp học" is no "học viên")
        if t in toks or (t not in _PERSON_UNITS and t.split("_")[0] in toks):
            return True
        if (t in _PERSON_UNITS or t.split("_")[0] in _PERSON_UNITS) and _PERSON_UNITS & toks:
            return True
    return False


# "17 học viên đạt loại giỏi, chiếm 54,83%": a count stated as a share of a whole is a part of it,
# not the whole a plain "bao nhiêu học viên" asks for (unless the question names that part).
_SHARE = re.compile(r"([^\d;.()]{0,80}?),?\s+chiếm\s+(?:tỷ lệ\s+|tỉ lệ\s+|khoảng\s+)?\d", re.I)
PART_OF_WHOLE = -0.2
# The words right after a figure that name what it counts ("học viên", "cán bộ"), not which part.
_COUNTED_NOUN_WORDS = 2


def _is_share(sentence: str, fig: Figure, asked: set[str]) -> bool:
    """Is the figure a share of a larger whole, qualified by words the question does not use?"""
    m = _SHARE.match(sentence, fig.end)
    if not m:
        return False
    qualifier = m.group(1).split()[_COUNTED_NOUN_WORDS:]
    words = _AWORD.findall(fold(" ".join(qualifier)))
    return bool(words) and sum(w in asked for w in words) < len(words) / 2


_BREAKDOWN = re.compile(r"^(?:Trong đó|Trong số đó|Gồm|Bao gồm)\b", re.I)


def _mentions_range(text: str, years: tuple[int, int]) -> bool:
    return bool(re.search(rf"{years[0]}\s*[-–]\s*{years[1]}", text))


def _inside_parens(sentence: str, pos: int) -> bool:
    return sentence.rfind("(", 0, pos) > sentence.rfind(")", 0, pos)


def _trim_span(sentence: str, a: int, b: int) -> tuple[int, int]:
    # never start or end inside a token ("/43 học viên" is "40/43 học viên")
    while 0 < a < len(sentence) and not sentence[a].isspace() and not sentence[a - 1].isspace():
        if sentence[a - 1] in '([«“"':
            break
        a -= 1
    while 0 < b < len(sentence) and not sentence[b - 1].isspace() and sentence[b].isalnum():
        b += 1
    seg = sentence[a:b]
    m = _LEADING_JUNK.match(seg)
    if m:
        a += m.end()
    seg = sentence[a:b]
    stripped = seg.rstrip(" ,.;:–-(")
    if stripped.count("(") < stripped.count(")") and stripped.endswith(")"):
        stripped = stripped[:-1].rstrip()
    # never end on a dangling connector or a figure prefix ("với", "trên")
    while True:
        m2 = re.search(r"\s(?:với|và|của|trên|hơn|khoảng|gần|là)$", stripped, re.I)
        if not m2:
            break
        stripped = stripped[: m2.start()]
    return a, a + len(stripped)


_CENTRAL_RESOLUTION = re.compile(r"(?:Nghị quyết|Kết luận|Hội nghị) Trung ương \d+(?: \(kho[áa] [IVX]+\))?")


def _docnum_figures(sentence: str) -> list[Figure]:
    """Regulations named in a sentence ("Quy định số 54", "Kế hoạch số 52-KH/BTCTW") as answers."""
    from assistant.glossary import REG_PATTERN

    out = []
    for m in _CENTRAL_RESOLUTION.finditer(sentence):
        out.append(Figure(raw=m.group(0), value=m.group(0), kind="docnum", start=m.start(), end=m.end()))
    for m in REG_PATTERN.finditer(sentence):
        end = m.end("num")
        out.append(
            Figure(
                raw=sentence[m.start() : end],
                value=m.group("num").upper(),
                kind="docnum",
                start=m.start(),
                end=end,
            )
        )
    return out


_ITEM_WORD = re.compile(r"[^\W_]+|#", re.UNICODE)
_LIST_OPEN = re.compile(r"[(:]")


@dataclass(frozen=True)
class _ListItem:
    start: int  # the item's span in its sentence
    end: int
    frame: str  # words the item leaves unsaid because the list's first item says them
    owner: str  # what the whole list is about: the clause before its "(" or ":"


def _list_items(sentence: str) -> list[_ListItem]:
    """Items of the enumerations in a sentence: runs of ";"-separated clauses.

    Reports enumerate a breakdown as "(Xếp loại giỏi 28 học viên - 31,8%; khá 60 học viên -
    68,2%)" or "2 học viên xếp loại giỏi, tỷ lệ 4,65%; 35 học viên khá, tỷ lệ 81,4%": the first
    item carries the frame ("Xếp loại"), the next ones only their label ("khá"). Aligning the
    items on their common head and tail (figures read as one placeholder) leaves each item's
    middle; the label is the last words of that middle (the modifier follows in Vietnamese), as
    long as the later items' labels, and the rest of the first item's middle is the frame that
    every item shares.
    """
    out: list[_ListItem] = []
    bounds = [-1] + [m.start() for m in _BOUNDARY.finditer(sentence)] + [len(sentence)]
    segs = [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]
    run: list[tuple[int, int]] = []

    def flush() -> None:
        if len(run) < 2:
            return
        words = []
        for a, b in run:
            masked = sentence[a:b]
            for f in reversed(extract_figures(masked)):
                masked = masked[: f.start] + " # " + masked[f.end :]
            words.append([w.lower() for w in _ITEM_WORD.findall(masked)])
        head = 0
        while all(len(w) > head for w in words) and len({w[head] for w in words}) == 1:
            head += 1
        tail = 0
        while all(len(w) > head + tail for w in words) and len({w[-1 - tail] for w in words}) == 1:
            tail += 1
        middles = [w[head : len(w) - tail] for w in words]
        label = min(len(m) for m in middles[1:])
        frame_words = middles[0][: max(0, len(middles[0]) - label)] if label else []
        frame = " ".join(x for x in frame_words if x != "#")
        a0 = run[0][0] - 1
        opener = sentence[a0] if a0 >= 0 else ""
        owner = ""
        if opener in "(:":
            prev = max((m.end() for m in re.finditer(r"[;()]", sentence[:a0])), default=0)
            owner = sentence[prev:a0]
        for i, (a, b) in enumerate(run):
            out.append(_ListItem(a, b, frame if i else "", owner))

    for k, (a, b) in enumerate(segs):
        sep_before = sentence[a - 1] if a > 0 else ""
        if run and sep_before == ";":
            run.append((a, b))
        else:
            flush()
            run = [(a, b)]
        if k == len(segs) - 1:
            flush()
    return out


def _item_at(items: list[_ListItem], pos: int) -> _ListItem | None:
    for it in items:
        if it.start <= pos < it.end:
            return it
    return None


_SENTENCE_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def period_covers(query: Query, ex: Extract, lead: str = "") -> bool | None:
    """Does what the extract is about cover the year or period asked?

    A sentence that states years speaks of those (and of its document's period); a sentence that
    states none speaks of what its passage, section, title or document opening (``lead``) does.
    True/False when that is known; None when nothing states a year at all (the answer then
    says so instead of refusing).
    """
    if not query.years:
        return True
    p = ex.passage
    sent = p.text[ex.sentence[0] - p.start : ex.sentence[1] - p.start]
    own = _SENTENCE_YEAR.findall(sent)
    texts = (sent, p.section, p.title) if own else (p.text, p.section, p.title, lead)
    known = [int(y) for t in texts for y in _SENTENCE_YEAR.findall(t)]
    span = [int(y) for y in _SENTENCE_YEAR.findall(p.period)]
    if not known and not span:
        return None
    for a, b in query.years:
        if any(a <= y <= b for y in known):
            continue
        if span and min(span) <= b and a <= max(span):
            continue
        return False
    return True


_CLASS_NOUNS = ("khóa", "khoá", "khoa", "lớp", "lop", "k")


def identifiers(terms: list[str]) -> list[str]:
    """Terms that name one thing: a code mixing letters and digits ("k52a", "k15c03") or a class
    noun with its number ("khóa_26")."""
    out = []
    for t in terms:
        if "_" not in t and any(c.isdigit() for c in t) and any(c.isalpha() for c in t):
            out.append(t)
        elif "_" in t:
            a, b = t.split("_", 1)
            if a in _CLASS_NOUNS and b.isdigit() and not _YEARISH.fullmatch(b):
                out.append(t)
    return out


# A number right after one of these nouns is the thing's label, not a count: in Vietnamese the cardinal
# comes before its noun ("2 lớp"), the ordinal or label after it ("khóa 2", "Điều 5", "đợt 3").
_LABEL_NOUN = re.compile(r"(?:khóa|khoá|điều|khoản|chương|mục|phần|đợt|kỳ|khu vực)\s*$", re.I)


def _is_label_number(fig: Figure, sentence: str) -> bool:
    return fig.kind == "number" and bool(_LABEL_NOUN.search(sentence[max(0, fig.start - 12) : fig.start]))


# A date in words, as legal texts fix a start ("có hiệu lực kể từ ngày ký", "từ ngày ban hành").
_WORD_DATE = re.compile(r"(?<!\w)(?:kể\s+)?từ\s+ngày\s+(ký|ban\s+hành)(?!\s*kết)(?!\w)", re.I)


def _word_date_figures(sentence: str) -> list[Figure]:
    """Dates written in words answer "khi nào" as a date does (they carry no number to ground)."""
    return [
        Figure(
            raw=m.group(0),
            value="ngày " + " ".join(m.group(1).lower().split()),
            kind="date",
            start=m.start(),
            end=m.end(),
        )
        for m in _WORD_DATE.finditer(sentence)
    ]


def figure_candidates(
    query: Query, passages: list[Passage], scorer: Scorer, leads: dict[str, str] | None = None
) -> list[Extract]:
    """Every answer span the passages offer, best first.

    ``leads`` maps a document to its opening (headline and sapo of a news page, heading of a
    report): what every passage of that document is about, though only its first passage says it.
    """
    leads = leads or {}
    wanted = _KINDS.get(query.kind)
    single_years = [a for a, b in query.years if a == b]
    ranges = [(a, b) for a, b in query.years if a != b]
    wants_total = bool(re.search(r"\b(tổng|tong)\b", query.text, re.I))
    m_noun = re.search(r"(\w+)\s+nào", query.text)
    noun = m_noun.group(1).capitalize() if m_noun and query.kind == "where" else ""
    targets = (
        [t if t in scorer.idf else t.split("_")[0] for t in query.targets] if query.kind == "count" else []
    )
    # Identifiers the question names ("khóa 26", "K52A", "K15C03"): a sentence that shows none of
    # them, nor does the sentence before it or the document's head, speaks of another class.
    idents = identifiers(scorer.terms)
    asked = tokens(query.text)
    out: list[Extract] = []
    for rank, p in enumerate(passages):
        # a passage's first sentence is its topic: a report's paragraph lead, a news page's sapo
        lead = next(iter(sentence_spans(p.text, 0, len(p.text))), (0, 0))
        # (a figure's topic only: a sentence answering a who/where/general question must say it itself)
        doc_lead = leads.get(p.doc_id, "") if wanted else ""
        doc_head = tokens(f"{p.title} {p.province} {p.section} {doc_lead}")
        header = doc_head | (tokens(p.text[lead[0] : lead[1]]) if wanted else set())
        passage_cov = scorer.coverage(tokens(p.text) | header)
        prior = 0.25 / (1 + rank)
        prev_toks: set[str] = set()
        for s, e in clean_sentence_spans(
            p.text
        ):  # documents are data: instructions and their payload skipped
            sentence = p.text[s:e]
            if is_instruction(sentence):  # documents are data, never orders
                continue
            sent_toks = tokens(sentence)
            # where an identifier may be said for this sentence: itself, the one before, the document's head
            named = sent_toks | prev_toks | doc_head
            prev_toks = sent_toks
            sent_cov = 0.7 * scorer.coverage(sent_toks | header) + 0.3 * passage_cov
            if not wanted:  # who / where / general: the sentence itself is the answer
                score = sent_cov + prior + (0.15 if query.kind == "who" and _PERSON.search(sentence) else 0.0)
                if noun and re.search(rf"\b{re.escape(noun)}\s+[A-ZĐÀ-Ỹ]", sentence):
                    score += 0.3
                junk = _LEADING_JUNK.match(sentence)  # a list's dash or number is no part of the answer
                a = s + (junk.end() if junk and junk.end() < len(sentence) else 0)
                out.append(
                    Extract(p, p.start + a, p.start + e, (p.start + s, p.start + e), None, score, sent_cov)
                )
                continue
            all_figs = extract_figures(sentence)
            if query.kind == "docnum":
                all_figs = sorted(all_figs + _docnum_figures(sentence), key=lambda f: f.start)
            if query.kind == "date":
                all_figs = sorted(all_figs + _word_date_figures(sentence), key=lambda f: f.start)
            figs = [f for f in all_figs if f.kind in wanted]
            figs = [f for f in figs if not _is_year_like(f, sentence, f.start) or query.kind == "year"]
            figs = [f for f in figs if not _is_label_number(f, sentence)]
            if query.kind == "duration":
                figs = [f for f in figs if _TIME_UNIT.match(sentence, f.end)]
            elif query.kind == "count" and not any(t.split("_")[0] in _TIME_WORDS for t in query.targets):
                # "4 tháng" counts months: no answer to "bao nhiêu học viên"
                figs = [f for f in figs if not _TIME_UNIT.match(sentence, f.end)]
            if query.kind == "year":
                figs = [f for f in figs if f.kind == "year_range" or re.fullmatch(r"(19|20)\d{2}", f.raw)]
            same_kind = query.kind in ("percent", "money")
            spans = [
                (f.start, f.end)
                for f in all_figs
                if not _is_year_like(f, sentence, f.start)
                and (not same_kind or f.kind in wanted)
                and f.kind not in ("date", "year_range")  # "…, ngày 19/11/2019" describes, not separates
            ]
            items = _list_items(sentence) if figs else []
            for f in figs:
                left, right, seg = _phrases(sentence, f.start, f.end, spans)
                item = _item_at(items, f.start)
                frame = f" {item.frame}" if item and item.frame else ""
                # the words that describe the figure are its nearest ones: the score reads a fixed
                # window, though the clause shown may run on to its natural end
                near = list(re.finditer(r"\S+", sentence[f.end : right]))
                after_text = (
                    sentence[f.end : f.end + near[SCORE_WINDOW_WORDS - 1].end()]
                    if len(near) > SCORE_WINDOW_WORDS
                    else sentence[f.end : right]
                )
                after = tokens(after_text)
                before = tokens(sentence[left : f.start] + frame)
                seg_end = _BOUNDARY.search(sentence, f.end)
                segment = tokens(sentence[seg : seg_end.start() if seg_end else len(sentence)] + frame)
                owner = tokens(item.owner) if item and item.owner else set()
                # the sentences before this one (not sibling clauses, which compete with it)
                context = tokens(p.text[max(0, s - 200) : s])
                head = tokens(" ".join(after_text.split()[:4]))
                head6 = tokens(" ".join(after_text.split()[:6]) + " " + sentence[left : f.start])
                feats = {
                    "after": 1.0 * scorer.coverage(after),
                    "before": 0.6 * scorer.coverage(before),
                    "segment": 0.5 * scorer.coverage(segment),
                    "context": 0.3 * scorer.coverage(context),
                    "owner": 0.3 * scorer.coverage(owner),  # what the enumeration it belongs to is about
                    "sentence": 0.4 * sent_cov,
                    "prior": prior,
                    "target": 0.8 if targets and any(t in head for t in targets) else 0.0,
                    "no_target": -1.0 if targets and not _counts_target(targets, head6) else 0.0,
                    "year_range_kind": 0.3 if query.kind == "year" and f.kind == "year_range" else 0.0,
                    "year": 0.6 if any(str(y) in sentence[left:right] for y in single_years) else 0.0,
                    "range": 0.4
                    if any(_mentions_range(sentence[max(0, seg - 150) : right], r) for r in ranges)
                    else 0.0,
                    "parens": -0.15 if _inside_parens(sentence, f.start) else 0.0,
                    "ident": -1.0 if idents and not any(t in named for t in idents) else 0.0,
                    "breakdown": -0.3
                    if wants_total and (_inside_parens(sentence, f.start) or _BREAKDOWN.match(sentence))
                    else 0.0,
                    "share": PART_OF_WHOLE if query.kind == "count" and _is_share(sentence, f, asked) else 0.0,
                }
                score = sum(feats.values())
                if len(targets) > 1:  # "mấy lớp …, với bao nhiêu học viên?": take the next figure too
                    nxt = [g for g in figs if g.start > f.end and g.start - f.end < 160]
                    if nxt:
                        right = max(right, _phrases(sentence, nxt[0].start, nxt[0].end, spans)[1])
                na, nb = _trim_span(sentence, left, right)  # the answer itself: the figure's own clause
                if not (na <= f.start and f.end <= nb):
                    na, nb = min(na, f.start), max(nb, f.end)
                seg_stop = seg_end.start() if seg_end else len(sentence)
                if seg_stop - seg <= 260:  # the cited span: the whole clause, so related figures come along
                    quote_left, right = seg, max(right, seg_stop)
                    if seg_end and sentence[seg_stop] == "(":
                        close = sentence.find(")", seg_stop)
                        if close != -1 and close - seg_stop <= 140:
                            right = max(right, close + 1)
                else:
                    quote_left = left
                a, b = _trim_span(sentence, quote_left, right)
                a, b = min(a, na), max(b, nb)
                out.append(
                    Extract(
                        p,
                        p.start + s + a,
                        p.start + s + b,
                        (p.start + s, p.start + e),
                        f,
                        score,
                        sent_cov,
                        feats,
                        (p.start + s + na, p.start + s + nb),
                    )
                )
    return sorted(out, key=lambda x: -x.score)


MIN_COVERAGE = 0.5


def eligible(
    query: Query,
    passages: list[Passage],
    idf: dict[str, float],
    min_coverage: float = MIN_COVERAGE,
    leads: dict[str, str] | None = None,
) -> list[Extract]:
    """Spans that match enough of the question, count what it counts and show the identifier it
    names ("khóa 26"), best first."""
    if not passages:
        return []
    scorer = Scorer(query, idf)
    return [
        c
        for c in figure_candidates(query, passages, scorer, leads)
        if c.coverage >= min_coverage and not c.features.get("no_target") and not c.features.get("ident")
    ]


def best_extract(
    query: Query, passages: list[Passage], idf: dict[str, float], min_coverage: float = MIN_COVERAGE
) -> Extract | None:
    """The best-supported span for the question, or None when the passages do not answer it."""
    cands = eligible(query, passages, idf, min_coverage)
    return cands[0] if cands else None


_NAME_WORD = re.compile(r"[^\W\d_][\w/-]*", re.UNICODE)
# A title set beside a person ("Đồng chí A, Ủy viên Ban Thường vụ, Trưởng Ban …") describes that
# person: it is not itself the answer to "ai", and what follows it still speaks of the person.
_TITLE = re.compile(
    r"^(?:Ủy viên|Uỷ viên|Phó|Trưởng|Giám đốc|Bí thư|Chủ tịch|Chủ nhiệm|Bộ trưởng|Thứ trưởng|"
    r"Hiệu trưởng|Chánh|Tổng Bí thư|Tổng Giám đốc)\b"
)
# A name governs the words after it up to the next name (Vietnamese puts the doer first: "Sở Nội
# vụ tham mưu Ban Cán sự đảng …"), and the few words of its own clause before it ("phối hợp với X").
NAME_LEAD_WORDS = 3
# Words a person's name is introduced with, not part of it ("Đồng chí Lê Văn Hòa" is "ông Lê Văn Hòa").
_HONORIFIC = re.compile(r"^(?:Đồng chí|Ông|Bà|Anh|Chị)\s+", re.I)
_CLAUSE_MARK = re.compile(r"[,;:.!?()]")
# Names matching the question within this share of the best one answer as well (a tie names both).
NAME_TIE = 0.1
# Below this the best name's words barely match the question: no name is clearly the answer, and
# none is required (the grounding check still applies).
NAME_MIN_COVERAGE = 0.25


def name_runs(text: str) -> list[tuple[int, int]]:
    """Word-index ranges of proper names, by Vietnamese capitalisation: each word of a name opens
    with a capital and keeps its lower-case second syllable ("Sở Nội vụ", "Ban Tổ chức Tỉnh ủy",
    "UBND tỉnh"). A run needs two capitals or an acronym, so a sentence's first word is no name.
    Punctuation ends a run ("Đặng Ngọc Thức, Trưởng Phòng …" is two)."""
    words = list(_NAME_WORD.finditer(text))
    runs: list[tuple[int, int]] = []
    start = None
    for i, m in enumerate(words):
        cap = m.group(0)[0].isupper()
        joined = i > 0 and text[words[i - 1].end() : m.start()].isspace()
        if start is not None and joined and (cap or words[i - 1].group(0)[0].isupper()):
            continue
        if start is not None:
            runs.append((start, i))
        start = i if cap else None
    if start is not None:
        runs.append((start, len(words)))
    names = []
    for a, b in runs:
        run = [m.group(0) for m in words[a:b]]
        if sum(w[0].isupper() for w in run) >= 2 or any(len(w) >= 2 and w.isupper() for w in run):
            names.append((a, b))
    return names


def answer_names(query: Query, ex: Extract, idf: dict[str, float]) -> tuple[str, ...]:
    """The names a who/where answer must state: those of the quote whose own words (what follows
    each up to the next name, and the words just before it in its clause) match the question
    best, less the question's own names and the titles that describe a person.

    In "A tham mưu X, còn B tham mưu Y" the answer to "ai tham mưu Y?" is B, though A is in the
    same sentence. Empty when the quote names nothing new (then nothing is required)."""
    if query.kind not in ("who", "where"):
        return ()
    text = ex.quote
    matches = list(_NAME_WORD.finditer(text))
    words = [m.group(0) for m in matches]
    asked: set[str] = set()  # the question's own names, word by word ("Ban Cán sự đảng UBND tỉnh")
    for m in _NAME_WORD.finditer(query.text):
        if m.group(0)[0].isupper():
            asked |= tokens(m.group(0))
    names = [
        (a, b)
        for a, b in name_runs(text)
        if not _TITLE.match(" ".join(words[a:b]))
        and not all(tokens(w) <= asked for w in words[a:b] if w[0].isupper())
    ]
    scorer = Scorer(query, idf)
    scored = []
    for k, (a, b) in enumerate(names):
        end = names[k + 1][0] if k + 1 < len(names) else len(words)
        for e in range(b, end):  # an aside in brackets governs nothing outside them
            if ")" in text[matches[e - 1].end() : matches[e].start()]:
                end = e
                break
        lead = a
        while lead > max(0, a - NAME_LEAD_WORDS) and not _CLAUSE_MARK.search(
            text[matches[lead - 1].end() : matches[lead].start()]
        ):
            lead -= 1
        own = text[matches[lead].start() : matches[end - 1].end()]
        scored.append((scorer.coverage(tokens(own)), _bare_name(text, matches, a, b)))
    if not scored:
        return ()
    top = max(s for s, _ in scored)
    if top < NAME_MIN_COVERAGE:
        return ()
    return tuple(dict.fromkeys(n for s, n in scored if s >= top - NAME_TIE))


def _bare_name(text: str, matches: list[re.Match[str]], a: int, b: int) -> str:
    """The name of words ``a:b`` as an answer must state it: without the capital every sentence
    opens with ("Giao Ban Tổ chức …" is "Ban Tổ chức …") nor the honorific before a person."""
    name = " ".join(m.group(0) for m in matches[a:b])
    bare = _HONORIFIC.sub("", name)
    if bare != name:
        return bare
    words = name.split()
    opens = a == 0 or re.search(r"[.!?:\n]", text[matches[a - 1].end() : matches[a].start()])
    if opens and not words[0].isupper() and any(w[0].isupper() for w in words[1:]):
        words = words[1:]
    return " ".join(words)


def states_name(text: str, name: str) -> bool:
    """Does the text state the name? Its capitalised words must all be there, in any case."""
    words = {w.casefold() for w in _NAME_WORD.findall(text)}
    return all(w.casefold() in words for w in _NAME_WORD.findall(name) if w[0].isupper())
