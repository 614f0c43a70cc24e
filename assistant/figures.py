"""Vietnamese-aware extraction and normalization of figures (numbers, %, dates, money, document numbers).

Why this module exists: the assistant must never state a figure that is not in a cited passage, and the
eval must judge answers the same way.  Both sides therefore compare *canonical values* produced by the
same pure functions here, so "72.810" in a passage and "72810" in an answer are one figure, while
"72,810" (Vietnamese for 72.81) is not.

Conventions (decisions, applied identically to answers and passages):

* Vietnamese number format: "." groups thousands, "," is the decimal comma.  "1.093" -> "1093",
  "126,2" -> "126.2".  A "." followed by anything other than 3-digit groups is read as a decimal point
  (so "50.4 %" -> "50.4%"); a single "," is always a decimal comma ("1,093" -> "1.093"); several
  3-digit comma groups ("1,234,567") or "1,234.5" are read as English grouping.
* "a,b" right after an enumerating label (đối tượng, nhóm, khóa, vùng, điều, khoản, mục, chương, loại)
  is a list of identifiers, not a decimal: "đối tượng 1,2" -> two numbers "1" and "2".
* "1.204/954" is two numbers; "1-2 lớp" is two numbers; "2012 - 2020" is one year range.
* Enumerators at the start of a line ("1. ", "2) ", "3- ") and Roman numerals ("I-", "khoá VIII") are
  not figures; neither are numbers written in words ("Một là", "hai"), citation markers ("[1]",
  "[1, 2]"), clock times ("06:00") or digits glued to letters ("4a7643c3", "Q4").
* Money keeps its unit word instead of multiplying out: "26,8 tỷ đồng" and "26,8 tỷ" -> "26.8 tỷ"
  ("tỉ" -> "tỷ", "ngàn" -> "nghìn").  "đồng chí" is never money.
* Dates are ISO: "10-2-2017", "10/02/2017", "ngày 10 tháng 2 năm 2017" -> "2017-02-10";
  month-year ("tháng 4-2017", "tháng 4 năm 2017") -> "2017-04"; a day and month without a year after
  "ngày" or a time of day ("Ngày 4-5", "Chiều 13/8") -> "--05-04" (ISO 8601's year-less form). A date in words ("kể từ
  ngày ký") holds no figure: ``assistant.extractive`` offers it as an answer to "khi nào".
* Document numbers ("52-KH/BTCTW", "1659/QĐ-TTg", "101/2017/NĐ-CP") are NFC, upper-cased, without
  spaces; Đ stays Đ (so "QD" and "QĐ" differ, on purpose).

Matching runs on the NFC form of the text, but ``start``/``end``/``raw`` always refer to the caller's
own string (mapped back when the input was not NFC), so ``text[f.start:f.end] == f.raw``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "KINDS",
    "Figure",
    "extract_figures",
    "figure_values",
    "format_vn_number",
    "normalize_number",
    "ungrounded_figures",
]

KINDS = frozenset({"number", "percent", "date", "year_range", "docnum", "money"})

_SP = r"[ \t\u00a0\u202f]"  # horizontal spaces only: a figure never spans a line break


@dataclass(frozen=True)
class Figure:
    """One figure found in a text; ``value`` is canonical so equal figures compare equal."""

    raw: str
    value: str
    kind: str
    start: int
    end: int

    @property
    def plain(self) -> tuple[str, ...]:
        """Plain-number forms of a compound figure, so "31 tỷ" also grounds a bare "31"."""
        if self.kind in ("percent", "money"):
            return (self.value.split(" ")[0].rstrip("%"),)
        if self.kind == "number" and " " in self.value:  # "1 triệu"
            return (self.value.split(" ")[0],)
        if self.kind == "date":
            return tuple(str(int(p)) for p in self.value.split("-") if p.isdigit())
        if self.kind == "year_range":
            return tuple(self.value.split("-"))
        if self.kind == "docnum":
            return tuple(str(int(p)) for p in re.findall(r"(?<![^\W\d_])\d+(?![^\W\d_])", self.value))
        return ()

    @property
    def forms(self) -> frozenset[str]:
        """The canonical value together with its plain-number forms."""
        return frozenset((self.value, *self.plain))


# --------------------------------------------------------------------------------------------------
# numbers

_NUM = (
    r"(?:"
    r"\d{1,3}(?:\.\d{3})+,\d+(?!\d)"  # 1.234,5   (VN grouping + decimal comma)
    r"|\d{1,3}(?:,\d{3})+\.\d+(?!\d)"  # 1,234.5   (English)
    r"|\d{1,3}(?:,\d{3}){2,}(?![\d]|[.,]\d)"  # 1,234,567 (English grouping)
    r"|\d{1,3}(?:\.\d{3})+(?![\d]|[.,]\d)"  # 72.810    (VN grouping)
    r"|\d+[.,]\d+(?![\d]|[.,]\d)"  # 50,4 / 50.4 (decimal)
    r"|\d+(?![\d]|[.,]\d)"  # 935
    r")"
)


def normalize_number(token: str) -> str:
    """Canonical form of one numeric token ("72.810" -> "72810", "50,4" -> "50.4", "06" -> "6")."""
    t = token.strip().replace("\u00a0", "").replace(" ", "")
    has_dot, has_comma = "." in t, "," in t
    if has_dot and has_comma:
        # the separator that comes last is the decimal one
        last_comma = t.rfind(",") > t.rfind(".")
        t = t.replace(".", "").replace(",", ".") if last_comma else t.replace(",", "")
    elif has_dot:
        groups = t.split(".")
        if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3:
            t = t.replace(".", "")
    elif has_comma:
        groups = t.split(",")
        if len(groups) > 2 and all(len(g) == 3 for g in groups[1:]):
            t = t.replace(",", "")
        else:
            t = t.replace(",", ".")
    if "." in t:
        ip, fp = t.split(".", 1)
        fp = fp.rstrip("0")
    else:
        ip, fp = t, ""
    ip = ip.lstrip("0") or "0"
    return f"{ip}.{fp}" if fp else ip


# --------------------------------------------------------------------------------------------------
# patterns, applied in priority order; an earlier match consumes its span

_LETTER = r"[^\W\d_]"
_BEFORE = r"(?<![\w])(?<!\d[.,])"  # not glued to a word, not inside a number

_CITATION_RE = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_TIME_RE = re.compile(_BEFORE + r"\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
_DOCNUM_RE = re.compile(
    _BEFORE
    + r"(\d{1,5})(?:/((?:19|20)\d{2}))?"
    + rf"{_SP}?[-/–]{_SP}?({_LETTER}+(?:{_SP}?[-/–]{_SP}?{_LETTER}+)*)"
    + r"(?!\w)"
)
_WORD_DATE_RE = re.compile(
    rf"(?:(?<!\w)ngày{_SP}+)?{_BEFORE}(\d{{1,2}}){_SP}+tháng{_SP}+(\d{{1,2}}){_SP}+năm{_SP}+(\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_NUM_DATE_RE = re.compile(_BEFORE + r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?![\d]|[.,]\d)")
_MONTH_YEAR_RE = re.compile(
    rf"(?<!\w)tháng{_SP}+(\d{{1,2}})(?:{_SP}*[-/]{_SP}*|{_SP}+năm{_SP}+)(\d{{4}})(?![\d]|[.,]\d)",
    re.IGNORECASE,
)
# A day and month without a year, as news datelines and reports write them: only after "ngày" or a
# time of day ("Ngày 1-11", "Chiều 13/8", "Sáng nay 30/7"), so "1-2 lớp" stays two counts.
_DAY_MONTH_RE = re.compile(
    rf"(?<!\w)(?:ngày|sáng|chiều|trưa|tối|đêm)(?:{_SP}+(?:nay|qua|mai|ngày))?{_SP}+"
    rf"(\d{{1,2}})[-/.](\d{{1,2}})(?![\d]|[-/.,]\d)",
    re.IGNORECASE,
)
_YEAR_RANGE_RE = re.compile(
    _BEFORE + rf"((?:19|20)\d{{2}}){_SP}*[-–—]{_SP}*((?:19|20)\d{{2}})(?![\d]|[.,]\d)"
)

_NOT_MONEY_AFTER_DONG = (
    r"chí|bộ|thời|đều|hương|nghiệp|bào|ý|tình|loạt|lòng|phục|minh|chủ|dạng|nhất|hành|đội|ca|bằng|tâm|khởi"
)
_NUMBER_RE = re.compile(
    _BEFORE
    + rf"(?P<num>{_NUM})"
    + r"(?:"
    + rf"(?P<pct>{_SP}*%|{_SP}+(?:phần{_SP}+trăm|phan{_SP}+tram)(?!\w))"
    + rf"|{_SP}*(?P<bn>tỷ|tỉ|ty)(?!\w)(?!{_SP}*lệ)(?:{_SP}+(?:đồng|dong|VNĐ|VND|đ)(?!\w))?"
    + rf"|{_SP}+(?P<mn>triệu|trieu|nghìn|nghin|ngàn|ngan){_SP}+(?:đồng|dong|VNĐ|VND|đ)(?!\w)"
    + rf"|{_SP}+(?P<sc>triệu|trieu|nghìn|nghin|ngàn|ngan)(?!\w)"
    + rf"|{_SP}*(?P<cur>USD|VNĐ|VND)(?!\w)"
    + rf"|{_SP}*(?P<dong>đồng|đ)(?!\w)(?!{_SP}+(?:{_NOT_MONEY_AFTER_DONG})(?!\w))"
    + r")?"
    + r"(?!\w)",  # digits glued to letters ("4a7643c3", "Q4", "15km") are identifiers, not figures
    re.IGNORECASE,
)

# an enumerator at the start of a line or of a quotation: "1. ", "2) ", "3- ", "- 4. ", "**5.** ",
# "«3. Ban Tuyên giáo…" (never "30 - 40", a range)
_ENUMERATOR_RE = re.compile(rf"(?m)(?:^{_SP}*(?:[-*•+#>]+{_SP}*)?|(?<=[«“\"]))(\d{{1,2}})[.)-](?=\**{_SP})")
_LIST_LABEL_RE = re.compile(r"(?:doi tuong|nhom|khoa|vung|dieu|khoan|muc|chuong|loai)\s*$")
_LIST_PAIR_RE = re.compile(r"^\d{1,2},\d{1,2}$")

_SCALE = {"trieu": "triệu", "nghin": "nghìn", "ngan": "nghìn"}


def _fold(s: str) -> str:
    """Lower-case, diacritics-free form used only for small look-behind tests."""
    s = unicodedata.normalize("NFD", s.lower()).replace("đ", "d")
    return "".join(c for c in s if not unicodedata.combining(c))


def _nfc_with_map(text: str) -> tuple[str, list[int]]:
    """NFC-normalise ``text`` and map every output index back to an input index."""
    if unicodedata.is_normalized("NFC", text):
        return text, list(range(len(text) + 1))
    out: list[str] = []
    mapping: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        seg = unicodedata.normalize("NFC", text[i:j])
        out.append(seg)
        mapping.extend([i] * len(seg))
        i = j
    mapping.append(n)
    return "".join(out), mapping


def _code_like(segment: str) -> bool:
    """An issuer/type code ("KH", "QĐ", "TTg", "QĐi", "BTCTW"), not an ordinary word ("Lạng")."""
    return segment.isupper() or sum(c.isupper() for c in segment) >= 2


def _valid_date(d: int, m: int, y: int) -> bool:
    return 1 <= d <= 31 and 1 <= m <= 12 and 1900 <= y <= 2100


def extract_figures(text: str) -> list[Figure]:
    """All figures in ``text``, in order of appearance (see the module docstring for the rules)."""
    norm, back = _nfc_with_map(text)
    taken = [False] * len(norm)
    found: list[tuple[int, int, str, str]] = []  # start, end, value, kind (offsets in norm)

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def take(a: int, b: int, value: str | None, kind: str) -> None:
        for k in range(a, b):
            taken[k] = True
        if value is not None:
            found.append((a, b, value, kind))

    for m in _CITATION_RE.finditer(norm):
        take(m.start(), m.end(), None, "")
    for m in _ENUMERATOR_RE.finditer(norm):
        take(m.start(1), m.end(1), None, "")
    for m in _TIME_RE.finditer(norm):
        take(m.start(), m.end(), None, "")

    for m in _DOCNUM_RE.finditer(norm):
        segs = list(re.finditer(_LETTER + "+", m.group(3)))
        end = m.start(3)
        if not re.search(r"\s", m.group(0)) and len(segs) >= 2 and all(len(x.group(0)) <= 8 for x in segs):
            end = m.end()  # "52-kh/btctw": a compact multi-part code, whatever its case
        else:
            for seg in segs:
                if not _code_like(seg.group(0)):
                    break
                end = m.start(3) + seg.end()
        if end == m.start(3) or not free(m.start(), end):
            continue
        value = re.sub(r"\s", "", norm[m.start() : end]).replace("–", "-").upper()
        value = re.sub(r"^\d+", lambda x: str(int(x.group(0))), value)
        take(m.start(), end, value, "docnum")

    for m in _WORD_DATE_RE.finditer(norm):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if _valid_date(d, mo, y) and free(m.start(), m.end()):
            take(m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", "date")
    for m in _NUM_DATE_RE.finditer(norm):
        d, mo, y = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if _valid_date(d, mo, y) and free(m.start(), m.end()):
            take(m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", "date")
    for m in _MONTH_YEAR_RE.finditer(norm):
        mo, y = int(m.group(1)), int(m.group(2))
        if _valid_date(1, mo, y) and free(m.start(), m.end()):
            take(m.start(), m.end(), f"{y:04d}-{mo:02d}", "date")
    for m in _DAY_MONTH_RE.finditer(norm):
        d, mo = int(m.group(1)), int(m.group(2))
        if _valid_date(d, mo, 2000) and free(m.start(1), m.end(2)):
            take(m.start(1), m.end(2), f"--{mo:02d}-{d:02d}", "date")
    for m in _YEAR_RANGE_RE.finditer(norm):
        a, b = int(m.group(1)), int(m.group(2))
        if a < b and free(m.start(), m.end()):
            take(m.start(), m.end(), f"{a}-{b}", "year_range")

    for m in _NUMBER_RE.finditer(norm):
        if not free(m.start(), m.end()):
            # the number itself may still be free when only a suffix overlaps: retry bare
            if free(m.start("num"), m.end("num")):
                take(m.start("num"), m.end("num"), normalize_number(m.group("num")), "number")
            continue
        tok = m.group("num")
        if (
            _LIST_PAIR_RE.match(tok)
            and m.lastgroup == "num"
            and _LIST_LABEL_RE.search(_fold(norm[max(0, m.start() - 20) : m.start()]))
        ):
            left, right = tok.split(",")
            s0 = m.start()
            take(s0, s0 + len(left), normalize_number(left), "number")
            take(s0 + len(left) + 1, m.end(), normalize_number(right), "number")
            continue
        n = normalize_number(tok)
        if m.group("pct"):
            take(m.start(), m.end(), f"{n}%", "percent")
        elif m.group("bn"):
            take(m.start(), m.end(), f"{n} tỷ", "money")
        elif m.group("mn"):
            unit = _SCALE.get(_fold(m.group("mn")), m.group("mn").lower())
            take(m.start(), m.end(), f"{n} {unit}", "money")
        elif m.group("sc"):
            unit = _SCALE.get(_fold(m.group("sc")), m.group("sc").lower())
            take(m.start(), m.end(), f"{n} {unit}", "number")
        elif m.group("cur"):
            cur = m.group("cur").upper()
            take(m.start(), m.end(), f"{n} {'đồng' if cur in ('VNĐ', 'VND') else cur}", "money")
        elif m.group("dong"):
            take(m.start(), m.end(), f"{n} đồng", "money")
        else:
            take(m.start(), m.end(), n, "number")

    found.sort()
    return [
        Figure(raw=text[back[a] : back[b]], value=v, kind=k, start=back[a], end=back[b])
        for a, b, v, k in found
    ]


def figure_values(text: str) -> set[str]:
    """Canonical values of every figure in ``text`` plus plain-number forms of compound figures."""
    out: set[str] = set()
    for f in extract_figures(text):
        out |= f.forms
    return out


def _grounded(fig: Figure, values: set[str]) -> bool:
    if fig.value in values:
        return True
    if fig.kind == "year_range":
        # "từ năm 2012 đến năm 2020" in a passage grounds "2012-2020" in an answer
        a, b = fig.value.split("-")
        return a in values and b in values
    return False


def ungrounded_figures(answer: str, passages: list[str]) -> list[Figure]:
    """Figures of ``answer`` whose canonical value occurs in none of ``passages``.

    One entry per distinct value (its first occurrence), so a fabricated figure repeated twice counts
    once.  Plain numbers are grounded by compound figures ("31" by "31 tỷ đồng", "2017" by
    "10-2-2017"), not the other way round ("31 tỷ" is not grounded by a bare "31").
    """
    values: set[str] = set()
    for p in passages:
        values |= figure_values(p)
    out: list[Figure] = []
    seen: set[str] = set()
    for f in extract_figures(answer):
        if f.value in seen:
            continue
        seen.add(f.value)
        if not _grounded(f, values):
            out.append(f)
    return out


def format_vn_number(x: float | int, decimals: int | None = None) -> str:
    """Vietnamese formatting for output: 72810 -> "72.810", 50.4 -> "50,4", (126.2, 1) -> "126,2".

    ``decimals=None`` keeps the significant decimals (at most 10); otherwise rounds half-up.
    """
    if isinstance(x, bool):
        raise TypeError("format_vn_number expects a number, not bool")
    if isinstance(x, int) and decimals is None:
        d = Decimal(x)
    elif decimals is None:
        d = Decimal(format(float(x), ".10f")).normalize()
    else:
        d = Decimal(str(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    s = format(abs(d), "f")
    ip, _, fp = s.partition(".")
    if decimals is None:
        fp = fp.rstrip("0")
    grouped = f"{int(ip):,}".replace(",", ".")
    if sign and grouped == "0" and not fp.strip("0"):
        sign = ""
    return f"{sign}{grouped},{fp}" if fp else f"{sign}{grouped}"
