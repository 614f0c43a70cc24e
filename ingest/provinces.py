"""Vietnamese provinces: find them in text as place names, tell the level of an issuing body,
and map former provinces to the current ones (the 2025 merger, kept as data).

Place names are matched as place names, by Vietnamese grammar rather than by letters alone:

* In accented text a province name must be written as a proper noun — every syllable capitalised
  ("Hòa Bình", "TỈNH LÂM ĐỒNG") — so "hòa bình" (peace), "Việt Nam định cư" (no "Nam Định"),
  and, since accents are compared, "diễn biến", "báo cáo bằng" and "phóng xạ" are no provinces.
* "Hồ Chí Minh" is a city only after a place noun ("thành phố", "TP."); otherwise it is the
  person ("tư tưởng Hồ Chí Minh", "Đoàn TNCS Hồ Chí Minh", "Học viện … Hồ Chí Minh").
* A capitalised name right after a family or middle name ("Nguyễn Thái Bình", "Văn Hòa Bình")
  is a person's name.
* Accent-free forms ("nghe an") count only where the span itself carries no accents, and in
  accented text only when capitalised or after a place noun; in accent-free text (a question
  typed without diacritics) also at the start of a clause or anywhere in a short question.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.normalize import canonical_tones, has_diacritics, strip_accents

# The 63 provinces and centrally-run cities as documents before July 2025 name them.
PROVINCES: tuple[str, ...] = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bắc Giang", "Bắc Kạn", "Bắc Ninh", "Bến Tre",
    "Bình Dương", "Bình Định", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Cần Thơ",
    "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang",
    "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hưng Yên",
    "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu", "Lạng Sơn", "Lào Cai", "Lâm Đồng", "Long An",
    "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình",
    "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh",
    "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "Hồ Chí Minh", "Tiền Giang",
    "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)  # fmt: skip

# The value of a document's province when its issuing body is national (Chính phủ, a Bộ, …).
NATIONAL = "Trung ương"

MERGER_FILE = Path(__file__).with_name("data") / "provinces_2025.yaml"

# Other spellings documents use. Hyphen/dash variants of "Bà Rịa - Vũng Tàu" are handled by the pattern.
_ALIASES: dict[str, tuple[str, ...]] = {
    "Hồ Chí Minh": ("TPHCM", "TP.HCM", "TP. HCM", "TP HCM", "Sài Gòn"),
    "Thừa Thiên Huế": ("Thừa Thiên - Huế", "Huế"),
    "Bà Rịa - Vũng Tàu": ("Vũng Tàu", "BRVT"),
    "Đắk Lắk": ("Đắc Lắc", "Daklak", "Dak Lak"),
    "Đắk Nông": ("Đắc Nông", "Dak Nong"),
    "Kon Tum": ("Kontum",),
}
# Place nouns that make the next capitalised words a place (and are needed for "Hồ Chí Minh").
_PLACE_CUE = re.compile(r"(?:\b(?:tỉnh|thành phố|tp\.?|tp|thủ đô|tinh|thanh pho)\s*)$", re.IGNORECASE)
# Accent-free questions: a preposition of place also marks a place ("o lao cai", "tai ha noi").
_BARE_CUE = re.compile(r"(?:\b(?:tinh|thanh pho|tp|o|tai|cua)\s*)$", re.IGNORECASE)
_NEEDS_CUE = {"Hồ Chí Minh"}  # the person's name unless a place noun precedes
# Family and middle names: a capitalised name right after one of them is a person's name.
_NAME_SYLLABLES = frozenset(
    ["nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ", "hồ", "ngô", "dương", "lý", "đinh", "đào", "trịnh", "mai", "lưu", "tạ", "chu", "lương", "thịnh", "tô", "triệu", "văn", "thị", "hữu", "đức", "ngọc"]
)
# Proper names that contain a province name but are not that province.
_NOT_PLACES = re.compile(r"Thái Bình Dương", re.IGNORECASE)
# A short accent-free text is a question: its province names need no cue.
_QUESTION_WORDS = 40


_Y_TO_I = str.maketrans({"y": "i", "Y": "I", "ý": "í", "Ý": "Í", "ỳ": "ì", "Ỳ": "Ì", "ỷ": "ỉ", "Ỷ": "Ỉ",
                         "ỹ": "ĩ", "Ỹ": "Ĩ", "ỵ": "ị", "Ỵ": "Ị"})  # fmt: skip


def _nfc(text: str) -> str:
    """NFC with canonical tone placement (same length as NFC input: offsets stay valid)."""
    return canonical_tones(unicodedata.normalize("NFC", text))


def _alt(form: str) -> str:
    """Regex for one written form: spaces flexible, any dash between parts."""
    parts = [re.escape(p) for p in re.split(r"\s*[-–]\s*|\s+", form) if p]
    joined = parts[0]
    for p in parts[1:]:
        joined += r"\s*[-–]?\s*" + p if "-" in form else r"\s+" + p
    return joined


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str], re.Pattern[str]]]:
    """(province, accented pattern, accent-free pattern), both case-insensitive, on word bounds."""
    out = []
    for name in PROVINCES:
        forms = [_nfc(f) for f in (name, *_ALIASES.get(name, ()))]
        acc = "|".join(sorted((_alt(f) for f in forms), key=len, reverse=True))
        bare_forms = {strip_accents(f) for f in forms}
        bare = "|".join(sorted((_alt(f) for f in bare_forms), key=len, reverse=True))
        out.append(
            (
                name,
                re.compile(rf"(?<![\w.])(?:{acc})(?!\w)", re.IGNORECASE),
                re.compile(rf"(?<![\w.])(?:{bare})(?!\w)", re.IGNORECASE),
            )
        )
    return out


def _capitalised(span: str) -> bool:
    words = re.findall(r"\w+", span)
    return bool(words) and all(w[0].isupper() or w[0].isdigit() for w in words)


def _prev_word(text: str, start: int) -> str:
    m = re.search(r"(\w+)[ \t]*$", text[max(0, start - 40) : start])
    return m.group(1) if m else ""


def _clause_start(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start]
    return start == 0 or not before.strip() or before.rstrip()[-1:] in ".,;:?!()\n-"


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    province: str


def find_mentions(text: str) -> list[Mention]:
    """Each place-name mention of a province, in text order; overlaps keep the earlier, longer one.

    Offsets are into ``text`` when it is NFC (what loaders give).
    """
    t = _NOT_PLACES.sub(lambda m: " " * len(m.group()), _nfc(text))
    accented_text = has_diacritics(t)
    t_iy = t.translate(_Y_TO_I)  # accent-free forms are compared with i/y merged (strip_accents does)
    short_question = len(t.split()) <= _QUESTION_WORDS
    found: list[tuple[int, int, str]] = []
    for name, acc, bare in _patterns():
        for pat, is_bare in ((acc, False), (bare, True)):
            for m in pat.finditer(t_iy if is_bare else t):
                span = t[m.start() : m.end()]
                if is_bare and has_diacritics(span):
                    continue  # the accented pattern judges accented spans
                if not is_bare and not has_diacritics(span) and has_diacritics(_nfc(name)):
                    continue  # an accent-free span of an accented name: judged as bare below
                before = t[max(0, m.start() - 20) : m.start()]
                cue = bool(_PLACE_CUE.search(before))
                if name in _NEEDS_CUE and not cue and not re.search(r"tp|sài gòn|sai gon", span, re.I):
                    continue
                prev = _prev_word(t, m.start())
                if prev[:1].isupper() and prev.lower() in _NAME_SYLLABLES and not cue:
                    continue  # "Nguyễn Thái Bình": a person
                if is_bare and not accented_text:
                    ok = (
                        _capitalised(span)
                        or cue
                        or bool(_BARE_CUE.search(before))
                        or _clause_start(t, m.start())
                        or short_question
                    )
                else:
                    ok = _capitalised(span) or cue
                if ok:
                    found.append((m.start(), m.end(), name))
    found.sort(key=lambda x: (x[0], -(x[1] - x[0])))
    out: list[Mention] = []
    end = -1
    for s, e, name in found:
        if s < end:
            continue
        out.append(Mention(s, e, name))
        end = e
    return out


def find_provinces(text: str) -> list[str]:
    """Provinces named in the text as places (accents optional), in order of first mention."""
    seen: dict[str, int] = {}
    for m in find_mentions(text):
        seen.setdefault(m.province, m.start)
    return sorted(seen, key=seen.__getitem__)


def dominant_province(text: str) -> str:
    """The province a text is mostly about, or "" when none stands out."""
    counts: Counter[str] = Counter(m.province for m in find_mentions(text))
    if not counts:
        return ""
    (best, n), *rest = counts.most_common(2) + [("", 0)]
    return best if n > rest[0][1] else ""


# ---------------------------------------------------------------------------------------------
# issuing bodies: province and level

# National bodies (Nghị định 30/2020 Phụ lục I; Hướng dẫn 36-HD/VPTW): they speak for the country.
_NATIONAL_BODY = re.compile(
    r"^(?:chính phủ|thủ tướng|phó thủ tướng|quốc hội|ủy ban thường vụ quốc hội|chủ tịch nước|"
    r"bộ(?!\s+chỉ huy)\s+\w+|bộ trưởng|thứ trưởng|ban chấp hành trung ương|bộ chính trị|ban bí thư|"
    r"ban \w+(?:\s+\w+)?\s+trung ương|văn phòng trung ương|ủy ban kiểm tra trung ương|"
    r"trung ương|học viện|ủy ban dân tộc|kiểm toán nhà nước|tòa án nhân dân tối cao|"
    r"viện kiểm sát nhân dân tối cao|ngân hàng nhà nước|văn phòng chính phủ|thanh tra chính phủ)\b",
    re.IGNORECASE,
)
_DISTRICT = re.compile(r"\b(huyện|quận|thị xã|huyện ủy|quận ủy|thị ủy)\b", re.IGNORECASE)
_COMMUNE = re.compile(r"\b(xã|phường|thị trấn|đảng ủy xã|đảng ủy phường)\b", re.IGNORECASE)
_ABBREV_BODY = {
    r"\bUBND\b": "Ủy ban nhân dân",
    r"\bHĐND\b": "Hội đồng nhân dân",
    r"\bTP\.\s*|\bTP\s+(?=[A-ZĐ])": "thành phố ",
}


def expand_body(name: str) -> str:
    """ "UBND tỉnh X" → "Ủy ban nhân dân tỉnh X" (for matching; display keeps the original)."""
    out = _nfc(" ".join(name.split()))
    for pat, rep in _ABBREV_BODY.items():
        out = re.sub(pat, rep, out)
    return out


def province_of_body(name: str) -> str:
    """Province of an issuing body ("UBND tỉnh Bình Định" → "Bình Định"), NATIONAL for a
    national body ("Bộ Nội vụ", "Ban Tổ chức Trung ương", "Học viện …"), else ""."""
    full = expand_body(name)
    # In a body's name every capitalised place is a place; "Hồ Chí Minh" is the city only after
    # a place noun, so "Học viện Chính trị quốc gia Hồ Chí Minh" stays national.
    found = find_provinces(full)
    if found:
        return found[0]
    if _NATIONAL_BODY.search(full):
        return NATIONAL
    return ""


def level_of_body(name: str) -> str:
    """ "trung ương" | "tỉnh" | "huyện" | "xã" | "" for an issuing body (and its parent)."""
    full = expand_body(name)
    if _COMMUNE.search(full) and not _DISTRICT.search(full):
        return "xã"
    if _DISTRICT.search(full):
        return "huyện"
    if find_provinces(full):
        return "tỉnh"
    if _NATIONAL_BODY.search(full):
        return "trung ương"
    return ""


# ---------------------------------------------------------------------------------------------
# the 2025 merger (data: ingest/data/provinces_2025.yaml)


@dataclass(frozen=True)
class Merger:
    source: str
    effective: str  # ISO date from which the current provinces apply
    parts: dict[str, tuple[str, ...]]  # current → former provinces that form it
    current: dict[str, str]  # former → current


@lru_cache(maxsize=1)
def merger() -> Merger:
    """The 63 → 34 mapping with its legal source, read from the data file."""
    data = yaml.safe_load(MERGER_FILE.read_text(encoding="utf-8"))
    parts: dict[str, tuple[str, ...]] = {}
    for cur, formers in (data.get("merged") or {}).items():
        parts[_nfc(str(cur))] = tuple(_nfc(str(f)) for f in formers)
    for p in data.get("unchanged") or []:
        parts[_nfc(str(p))] = (_nfc(str(p)),)
    current = {f: cur for cur, fs in parts.items() for f in fs}
    unknown = sorted(set(current) ^ set(PROVINCES))
    if unknown:
        raise ValueError(f"{MERGER_FILE}: tên tỉnh không khớp danh sách 63 tỉnh / unknown names: {unknown}")
    return Merger(str(data["source"]).strip(), str(data["effective"]), parts, current)


def current_of(former: str) -> str:
    """The province a former province belongs to now ("Hòa Bình" → "Phú Thọ"); itself if unchanged."""
    return merger().current.get(_nfc(former), former)


def parts_of(current: str) -> tuple[str, ...]:
    """The former provinces that form a current one ("Phú Thọ" → Vĩnh Phúc, Phú Thọ, Hòa Bình).

    A name that is only a former province ("Yên Bái") is its own only part.
    """
    return merger().parts.get(_nfc(current), (current,))


def merger_year() -> int:
    return int(merger().effective[:4])


def scope_of(province: str, years: list[tuple[int, int]] | None = None) -> list[str]:
    """Document provinces a question about ``province`` may be answered from.

    A current merged province reaches all its former parts, unless every period asked ends
    before the merger (Lào Cai 2010–2015 is not Yên Bái's). A former province is only itself.
    """
    parts = parts_of(province)
    if len(parts) == 1 or province not in merger().parts:
        return [province]
    if years and all(end < merger_year() for _, end in years):
        return [province]
    return list(parts)


def former_label(province: str, asked: str = "") -> str:
    """ "tỉnh Hòa Bình (cũ), nay thuộc tỉnh Phú Thọ" for a merged former province, else "tỉnh X"."""
    cur = current_of(province)
    noun = "thành phố" if province in {"Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Hồ Chí Minh"} else "tỉnh"
    if cur == province or (asked and asked == province):
        return f"{noun} {province}"
    cur_noun = (
        "thành phố"
        if cur in {"Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Hồ Chí Minh", "Thừa Thiên Huế"}
        else "tỉnh"
    )
    return f"{noun} {province} (cũ), nay thuộc {cur_noun} {cur}"
