"""Understand a question: provinces, years, abbreviations, what kind of answer, follow-ups."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.normalize import fold, has_diacritics, normalize_text, strip_accents
from ingest.provinces import find_provinces

ABBREV_FILE = Path(__file__).with_name("abbreviations.yaml")


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    """Abbreviation → expansion, the domain's own shorthand (LLCT, CBCC, QLNN …)."""
    data = yaml.safe_load(ABBREV_FILE.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


# Question words and fillers: they say what kind of answer is wanted, not what it is about.
_STOP_WORDS = """
bao nhiêu có là gì nào thế được đã của cho trong và ai khi ngày năm hỏi tỉnh ở tại với những các
một số người hay biết xin vậy còn thì sao như ra đến từ về theo muốn phải không chưa rồi bằng
mấy này đó đâu làm lượt hệ khoảng trên hơn nhé à ơi
thời gian bao giờ hãy nêu cho biết thực hiện giai đoạn thời kỳ
"""
_STOP = {strip_accents(w) for w in _STOP_WORDS.split()}
_STOP_ACCENTED = {fold(w) for w in _STOP_WORDS.split()}
# Phrases that only frame the question; removed before picking content words.
_FRAMING_PHRASES = (
    "được ban hành",
    "ban hành",
    "là bao nhiêu",
    "bao nhiêu",
    "cho biết",
    "như thế nào",
    "thế nào",
    "là gì",
    "là ai",
    "có phải",
    "hãy nêu",
    "nêu rõ",
    "tất cả",
    "những gì",
    "tổng cộng",
    "tổng số",
    "được bao nhiêu",
    "bao lâu",
)
_STOP_PHRASES = re.compile(r"\b(" + "|".join(strip_accents(p) for p in _FRAMING_PHRASES) + r")\b")
_STOP_PHRASES_ACCENTED = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(fold(p)) for p in _FRAMING_PHRASES) + r")(?!\w)"
)


def _plain(text: str) -> str:
    """Lower case, no diacritics, y kept (intent patterns read "ngày", not "ngài")."""
    decomposed = unicodedata.normalize("NFD", normalize_text(text).lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")
    return " ".join(re.findall(r"[a-z0-9%]+", bare))


_COUNT = re.compile(r"\b(bao nhieu|may|so luong|tong so|bao nhieu luot|dem)\b")
_PERCENT = re.compile(r"(ty le|ti le|phan tram|%|bao nhieu phan tram|dat bao nhieu|chiem)")
_MONEY = re.compile(r"(kinh phi|ty dong|bao nhieu tien(?! s[iy])|ngan sach|chi phi)")
_DATE = re.compile(
    r"\b(ngay nao|khi nao|bao gio|thoi gian nao|ngay bao nhieu|thang nao|ngay thang|ban hanh ngay|ngay may"
    r"|thang may|dang ngay|vao ngay)\b"
)
_DURATION = re.compile(r"\b(bao lau|trong bao lau|keo dai bao lau|mat bao lau|may thang|may tuan|may ngay)\b")
_YEARQ = re.compile(r"\b(nam nao|nam bao nhieu|giai doan nao)\b")
_DOCNUM = re.compile(
    r"\b(so hieu|van ban nao|ke hoach nao|quyet dinh nao|nghi quyet nao|quy dinh nao|ket luan nao|theo .* so may|so may|can cu)\b"
)
_WHO = re.compile(
    r"\b(ai|nguoi nao|dong chi nao|vi nao|ai ky|ky boi|tac gia|co quan nao|don vi nao|ban nao)\b"
)
_WHERE = re.compile(r"\b(o dau|tai dau|noi nao|truong nao|co so nao|nuoc nao|dia phuong nao|tinh nao)\b")
_FOLLOWUP = re.compile(r"^(thế còn|vậy còn|còn về|còn lại|còn|và)\b", re.I)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*(?:-|–|đến|den)\s*((?:19|20)\d{2}))?(?!\d)")


# Question kinds whose answer is a province's own statistic: never taken from a national document,
# nor from another province's (assistant.modes.qa, assistant.grounding).
PROVINCE_FIGURE_KINDS = frozenset({"count", "percent", "money", "year"})


@dataclass
class Query:
    """A question as understood: what to search for and what an answer must contain."""

    original: str
    text: str  # the question after follow-up resolution
    search_text: str  # text + abbreviation expansions, for retrieval
    provinces: list[str] = field(default_factory=list)
    years: list[tuple[int, int]] = field(default_factory=list)
    kind: str = "general"  # count | percent | money | date | year | duration | docnum | who | where | general
    terms: list[str] = field(default_factory=list)  # content tokens (accent-free) that must be matched
    targets: list[str] = field(default_factory=list)  # the counted noun: "bao nhiêu học viên" → "hoc_vien"
    abbreviations: dict[str, str] = field(default_factory=dict)

    @property
    def wants_figure(self) -> bool:
        return self.kind in {"count", "percent", "money"}


def content_terms(text: str) -> list[str]:
    """Unigrams and bigrams of the meaningful words of a question.

    Accented (folded) when the question has diacritics, so "sơ cấp" stays apart from "số";
    accent-free otherwise. Stop words are judged in the same form. Bigrams never bridge a
    removed phrase or punctuation ("đào tạo | thạc sỹ" gives no "tạo_thạc").
    """
    accented = has_diacritics(text)
    uni: list[str] = []
    bi: list[str] = []
    for segment in re.split(r"[|?!;:,()\[\]\"“”]+", fold(text)):
        raw = [w for w in re.findall(r"[^\W_]+", segment) if w]
        if accented:
            words, stop = raw, [w in _STOP_ACCENTED for w in raw]
        else:
            words = [strip_accents(w) for w in raw]
            stop = [w in _STOP for w in words]
        pairs = list(zip(words, stop, strict=True))
        uni.extend(w for w, st in pairs if not st)
        bi.extend(f"{a}_{b}" for (a, sa), (b, sb) in zip(pairs, pairs[1:], strict=False) if not sa and not sb)
    return list(dict.fromkeys(uni + bi))


def detect_kind(text: str) -> str:
    key = _plain(text)
    if _DOCNUM.search(key):
        return "docnum"
    if _DATE.search(key):
        return "date"
    if _PERCENT.search(key):
        return "percent"
    if _MONEY.search(key) and _COUNT.search(key):
        return "money"
    if _DURATION.search(key):
        return "duration"
    if _YEARQ.search(key):
        return "year"
    if _COUNT.search(key) or re.search(r"\bso sanh\b", key):
        return "count"
    if _WHO.search(key):
        return "who"
    if _WHERE.search(key):
        return "where"
    return "general"


def expand_abbreviations(text: str) -> tuple[str, dict[str, str]]:
    """Append the long forms of abbreviations found in the text (LLCT → lý luận chính trị)."""
    found: dict[str, str] = {}
    for abbr, long in abbreviations().items():
        # Not inside a document number ("52-KH/BTCTW" is no question about "Kế hoạch").
        if re.search(rf"(?<![\wĐđ/-]){re.escape(abbr)}(?![\wĐđ/-])", text):
            found[abbr] = long
    extra = " ".join(found.values())
    return (f"{text} {extra}".strip() if extra else text), found


_THEN_WHAT = re.compile(r"\s*(?:thì sao|thì thế nào|thế nào|ra sao|thì sao nhỉ)\s*\??\s*$", re.I)


def is_followup(question: str) -> bool:
    """ "còn tiến sĩ?", "và Lạng Sơn?", "Lạng Sơn thì sao?": short questions that lean on the last one."""
    q = normalize_text(question)
    words = q.split()
    return (bool(_FOLLOWUP.match(q)) or bool(_THEN_WHAT.search(q))) and len(words) <= 8


_ANAPHORA = re.compile(
    r"\b(người đó|người này|ông ấy|bà ấy|văn bản đó|văn bản này|tỉnh đó|tỉnh này|ở đó|tài liệu đó|"
    r"đồng chí đó|bài đó|bài này|con số đó|số đó)\b",
    re.I,
)


def resolve_followup(question: str, history: list[str]) -> str:
    """Resolve a follow-up against the previous question.

    "còn tiến sĩ?" after "Nghệ An đào tạo bao nhiêu thạc sỹ?" → "Nghệ An đào tạo bao nhiêu tiến sĩ?";
    "người đó giữ chức vụ gì?" carries the previous question along as context.
    """
    if history and _ANAPHORA.search(question) and not find_provinces(question):
        return f"{question.rstrip()} ({history[-1].strip()})"
    if not history or not is_followup(question):
        return question
    prev = history[-1]
    rest = _THEN_WHAT.sub("", _FOLLOWUP.sub("", normalize_text(question))).strip(" ?.").strip()
    rest_provinces = find_provinces(rest)
    if rest_provinces:  # "còn Lào Cai?": same question, other province
        text = prev
        for p in find_provinces(prev):
            text = re.sub(re.escape(p), rest_provinces[0], text, flags=re.I)
        if not find_provinces(prev):
            text = f"{prev.rstrip(' ?')} ở {rest_provinces[0]}?"
        return text
    # Same frame, new target: keep the previous question's province and question words.
    prev_norm = normalize_text(prev).rstrip(" ?")
    m = re.search(r"(bao nhiêu|mấy|tỷ lệ|tỉ lệ|là gì|là ai|ở đâu)\s+(.*)$", prev_norm, re.I)
    if m:
        return f"{prev_norm[: m.end(1)]} {rest}?"
    provinces = find_provinces(prev)
    lead = f"{provinces[0]} " if provinces else ""
    return (
        f"{lead}{rest} bao nhiêu?" if detect_kind(prev) in {"count", "percent", "money"} else f"{lead}{rest}?"
    )


# An imperative that asks for a text to be written (matched accent-free, lower case).
_DRAFTING_REQUEST = re.compile(r"^\s*(?:hay\s+)?(?:soan|viet|du thao|lap du thao|xay dung du thao)\b")


def understand(question: str, history: list[str] | None = None) -> Query:
    text = resolve_followup(question, history or [])
    text = normalize_text(text)
    search_text, found = expand_abbreviations(text)
    provinces = find_provinces(text)
    years = []
    # A drafting request ("Soạn kế hoạch … năm 2025", "Viết …", "Dự thảo …") names the period of
    # the text to be written, not a period its sources must be about.
    for m in ([] if _DRAFTING_REQUEST.match(strip_accents(text).lower()) else _YEAR.finditer(text)):
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        years.append((a, b))
    terms_src = fold(text)
    for p in provinces:
        terms_src = re.sub(rf"(?<!\w){re.escape(fold(p))}(?!\w)", " | ", terms_src)
        terms_src = re.sub(rf"(?<![a-z]){re.escape(strip_accents(p))}(?![a-z])", " | ", terms_src)
    terms_src = _STOP_PHRASES_ACCENTED.sub(" | ", terms_src)
    if not has_diacritics(terms_src):
        terms_src = _STOP_PHRASES.sub(" | ", terms_src)
    terms = content_terms(terms_src)
    targets: list[str] = []
    accented = has_diacritics(text)
    for tm in re.finditer(r"(?<!\w)(?:bao nhiêu|bao nhieu|mấy|may)\s+([^\W_]+)(?:\s+([^\W_]+))?", fold(text)):
        noun, nxt = tm.group(1), tm.group(2) or ""
        if not accented:
            noun, nxt = strip_accents(noun), strip_accents(nxt)
        if strip_accents(noun) in {"phan", "ti"}:  # "bao nhiêu phần trăm": not a noun
            continue
        nxt_stop = (nxt in _STOP_ACCENTED) if accented else (nxt in _STOP)
        targets.append(f"{noun}_{nxt}" if nxt and not nxt_stop else noun)
    return Query(
        original=question,
        targets=targets,
        text=text,
        search_text=search_text,
        provinces=provinces,
        years=years,
        kind=detect_kind(text),
        terms=terms,
        abbreviations=found,
    )
