"""Vietnamese provinces, so that documents get a province and questions are scoped by it."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from ingest.normalize import strip_accents

# The 63 provinces and centrally-run cities (names as used in the documents' period).
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

_EXTRA_ALIASES = {
    "Hồ Chí Minh": ("tp hcm", "tphcm", "sai gon", "thanh pho ho chi minh"),
    "Thừa Thiên Huế": ("hue",),
    "Bà Rịa - Vũng Tàu": ("ba ria vung tau", "vung tau"),
    "Đắk Lắk": ("dak lak", "daklak"),
}
# Names that are also ordinary words or other entities in this domain's prose.
_PERSON_OR_ORG = re.compile(
    r"(Chủ tịch|Tư tưởng|Học viện Chính trị quốc gia|Lăng|Ngày sinh|Người)\s+Hồ Chí Minh", re.I
)


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", strip_accents(text)).split())


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for name in PROVINCES:
        aliases = {_key(name), *_EXTRA_ALIASES.get(name, ())}
        alt = "|".join(sorted((re.escape(a) for a in aliases), key=len, reverse=True))
        out.append((name, re.compile(rf"(?<![a-z0-9])(?:{alt})(?![a-z0-9])")))
    return out


def _mentions(text: str) -> list[tuple[int, str]]:
    """(position, province) of each mention; overlapping matches keep the earlier, longer one.

    Accent-folded, "Hòa Bình định nghĩa" also matches "binh dinh" and "Quảng Nam định" "nam dinh":
    a match that starts inside another province's match is not a mention.
    """
    key = _key(_PERSON_OR_ORG.sub(" ", text))
    spans = sorted(
        ((m.start(), -(m.end() - m.start()), name) for name, pat in _patterns() for m in pat.finditer(key)),
    )
    out: list[tuple[int, str]] = []
    end = -1
    for start, neg_len, name in spans:
        if start < end:
            continue
        out.append((start, name))
        end = start - neg_len
    return out


def find_provinces(text: str) -> list[str]:
    """Provinces named in the text (accents optional), in order of first mention."""
    seen: dict[str, int] = {}
    for pos, name in _mentions(text):
        seen.setdefault(name, pos)
    return sorted(seen, key=seen.__getitem__)


def dominant_province(text: str) -> str:
    """The province a document is mostly about, or "" when none stands out."""
    counts: Counter[str] = Counter(name for _, name in _mentions(text))
    if not counts:
        return ""
    (best, n), *rest = counts.most_common(2) + [("", 0)]
    return best if n > rest[0][1] else ""
