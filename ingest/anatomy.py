"""The fixed anatomy of Vietnamese administrative documents and news pages, parsed at ingest.

Owns: finding, with its character span in the document text (the text citations point into),

* for a văn bản (Nghị định 30/2020/NĐ-CP Phụ lục I for state bodies; Hướng dẫn 36-HD/VPTW for
  Party bodies): the national motto or "ĐẢNG CỘNG SẢN VIỆT NAM"; the issuing body and its parent
  body; the number and symbol ("Số: 875/QĐ-BNV", "Số 225-KH/TU"); the place and date of issue;
  the document type and its summary line (trích yếu); the authority line of the preamble; the
  legal bases ("Căn cứ …": other documents — never this one's own number); Điều N and
  Roman-numeral parts; the effect clause ("có hiệu lực kể từ ngày ký"); the recipients (Nơi nhận);
  the signature block (TM./KT./Q./TL./TUQ., position, full name);
* the header table of legal-text web pages ("Số hiệu | Loại văn bản | Người ký | Ngày ban hành |
  Ngày có hiệu lực …");
* for a news page: headline, published date, dateline, agency tag ("(ĐN)", "(TTXVN)", "TPO"),
  byline and photo captions;
* the province and level the document speaks for, from its issuing body first.

Every rule follows the genre's layout (header cells, upper-case title lines, "Căn cứ" lines,
signature blocks); none is written for one document. The result is stored as compact JSON with
the document's first chunk (metadata key ``anatomy``) and read back with :func:`Anatomy.from_json`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.normalize import canonical_tones, strip_accents
from ingest.provinces import NATIONAL, find_mentions, level_of_body, province_of_body

# How far into a document its header (motto, body, number, date, title) may reach.
HEADER_CHARS = 3000
# The signature block and recipients sit at the end: how much of the tail to read for them.
TAIL_CHARS = 2000
# An excerpt without motto or number is still a văn bản when its type line ("KẾT LUẬN") opens it.
TYPE_LINE_CHARS = 600
_TYPE_LINE = re.compile(r"^[ \t*_#]*([A-ZĐÀ-Ỹ][A-ZĐÀ-Ỹ ]{2,30})[ \t*_]*$", re.MULTILINE)
# Longest legal-basis clause kept (a "Căn cứ" runs to its ";" — a safety bound for broken text).
MAX_BASIS_CHARS = 700
# A line is "upper case" (a header/title line) when this share of its letters are capitals.
UPPER_SHARE = 0.8

# Document types (Nghị định 30/2020 Phụ lục III; Hướng dẫn 36-HD/VPTW), longest first.
DOC_TYPES: tuple[str, ...] = (
    "Thông tư liên tịch", "Nghị quyết liên tịch", "Quyết định", "Kế hoạch", "Nghị quyết", "Kết luận",
    "Chỉ thị", "Thông báo", "Báo cáo", "Hướng dẫn", "Quy định", "Quy chế", "Tờ trình", "Thông tư",
    "Nghị định", "Đề án", "Chương trình", "Công văn", "Luật", "Phương án", "Thông tri", "Công điện",
)  # fmt: skip
# Abbreviations of types in a number's symbol ("875/QĐ-BNV", "225-KH/TU").
SYMBOL_TYPES: dict[str, str] = {
    "QĐ": "Quyết định", "KH": "Kế hoạch", "NQ": "Nghị quyết", "KL": "Kết luận", "CT": "Chỉ thị",
    "TB": "Thông báo", "BC": "Báo cáo", "HD": "Hướng dẫn", "QC": "Quy chế", "TTr": "Tờ trình",
    "TT": "Thông tư", "NĐ": "Nghị định", "ĐA": "Đề án", "CTr": "Chương trình", "PA": "Phương án",
    "TTLT": "Thông tư liên tịch", "QyĐ": "Quy định", "TTri": "Thông tri", "CĐ": "Công điện",
}  # fmt: skip

_UPPER_TYPES = sorted((t.upper() for t in DOC_TYPES), key=len, reverse=True)
_MOTTO = re.compile(
    r"C[ỘO]NG\s+H(?:ÒA|OÀ|OA)\s+X[ÃA]\s+H[ỘO]I\s+CH[ỦU]\s+NGH[ĨI]A\s+VI[ỆE]T\s+NAM", re.IGNORECASE
)
_MOTTO2 = re.compile(r"Độc\s+lập\s*[-–]\s*Tự\s+do\s*[-–]\s*Hạnh\s+phúc", re.IGNORECASE)
_PARTY_MOTTO = re.compile(r"ĐẢNG\s+CỘNG\s+SẢN\s+VIỆT\s+NAM")  # upper case only: a header, not prose
_NUMBER = re.compile(r"(?:^|\|)[ \t]*Số[ \t]*:?[ \t]*(\d+[\w./\-–]*\w)", re.MULTILINE)
_PLACE_DATE = re.compile(
    r"(?:^|\|)[ \t]*([A-ZĐÀ-Ỹ][^\n|,;:]{1,40}?)[ \t]*,[ \t]*(ngày[ \t]+(\d{1,2})[ \t]*tháng[ \t]*(\d{1,2})"
    r"[ \t]*năm[ \t]*(\d{4}))",
    re.MULTILINE,
)
_SEPARATOR = re.compile(r"^[\s\-_=*.~•]*$")
# Bodies a header line may open with (state and Party, Nghị định 30 / Hướng dẫn 36).
_BODY_START = re.compile(
    r"^(?:ỦY BAN|UBND|HỘI ĐỒNG|HĐND|BỘ(?!,)|SỞ|BAN|TỈNH ỦY|THÀNH ỦY|HUYỆN ỦY|QUẬN ỦY|THỊ ỦY|ĐẢNG BỘ|"
    r"ĐẢNG ỦY|ĐẢNG ĐOÀN|BAN CÁN SỰ|CHI BỘ|CHÍNH PHỦ|THỦ TƯỚNG|QUỐC HỘI|TRƯỜNG|HỌC VIỆN|VĂN PHÒNG|"
    r"CỤC|TỔNG CỤC|VIỆN|TRUNG TÂM|PHÒNG|ĐOÀN|MẶT TRẬN|LIÊN ĐOÀN|HỘI|CÔNG AN|BỘ CHỈ HUY|TÒA ÁN|"
    r"KIỂM TOÁN|NGÂN HÀNG|UBMTTQ|TRUNG ƯƠNG)\b",
    re.IGNORECASE,
)
# A line that continues a body's name ("TỈNH LÂM ĐỒNG" under "ỦY BAN NHÂN DÂN").
_PLACE_LINE = re.compile(
    r"^(?:TỈNH|THÀNH PHỐ|HUYỆN|QUẬN|THỊ XÃ|XÃ|PHƯỜNG|THỊ TRẤN|TP\.?)\s+(?!ỦY|UỶ)\S", re.I
)
# The preamble's authority line ("CHỦ TỊCH ỦY BAN NHÂN DÂN …", "HỘI ĐỒNG NHÂN DÂN TỈNH …").
_AUTHORITY = re.compile(
    r"^(?:CHỦ TỊCH|HỘI ĐỒNG NHÂN DÂN|ỦY BAN NHÂN DÂN|BỘ TRƯỞNG|THỦ TƯỚNG|BAN THƯỜNG VỤ|BAN CHẤP HÀNH|"
    r"BỘ CHÍNH TRỊ|BAN BÍ THƯ|GIÁM ĐỐC|CHÁNH VĂN PHÒNG|TRƯỞNG BAN|HIỆU TRƯỞNG|BỘ NỘI VỤ|CHÍNH PHỦ|"
    r"THƯỜNG TRỰC)\b"
)
# Signature block: authority markers (Nghị định 30 Phụ lục I; Hướng dẫn 36: T/M, K/T, T/L).
_SIGN_MARK = re.compile(r"^(TM|KT|TL|TUQ|Q|T/M|K/T|T/L|TUQ)\.?\s+\S", re.IGNORECASE)
_POSITION = re.compile(
    r"^(?:PHÓ\s+)?(?:CHỦ TỊCH|BÍ THƯ|GIÁM ĐỐC|BỘ TRƯỞNG|THỨ TRƯỞNG|THỦ TƯỚNG|TRƯỞNG BAN|HIỆU TRƯỞNG|"
    r"CHÁNH VĂN PHÒNG|TỔNG BÍ THƯ|THƯỜNG TRỰC|VỤ TRƯỞNG|CỤC TRƯỞNG|TRƯỞNG PHÒNG|CHỦ NHIỆM|"
    r"TỔNG CỤC TRƯỞNG|VIỆN TRƯỞNG|TRƯỞNG ĐOÀN|CHÁNH ÁN|TỔNG GIÁM ĐỐC|GIÁM ĐỐC HỌC VIỆN|TRƯỞNG KHOA)\b",
    re.IGNORECASE,
)
_SIGNED_NOTE = re.compile(
    r"^[\s(\[]*(?:đã ký|ký|ký tên|ký,? đóng dấu|đã ký và đóng dấu|signed)[\s)\].]*$", re.I
)
_PERSON_WORD = re.compile(r"^[A-ZĐÀ-Ỹ][a-zà-ỹđ]*$|^[A-ZĐÀ-Ỹ]+$")
_NOT_NAME_WORDS = {
    "ỦY", "BAN", "NHÂN", "DÂN", "TỈNH", "THÀNH", "PHỐ", "BỘ", "SỞ", "CHỦ", "TỊCH", "NƠI", "NHẬN",
    "LƯU", "QUYẾT", "ĐỊNH", "KẾ", "HOẠCH", "TRƯỞNG", "THƯ", "GIÁM", "ĐỐC", "ĐIỀU", "CÁC", "VĂN",
    "PHÒNG", "HỘI", "ĐỒNG", "ĐẢNG", "TRUNG", "ƯƠNG", "CHÍNH", "PHỦ", "SỐ", "NGÀY", "THÁNG", "NĂM",
}  # fmt: skip
_BASIS = re.compile(r"^[ \t|]*(?:[-–•+][ \t]*)?(Căn cứ)\b", re.MULTILINE)
_REF = re.compile(
    r"(Hiến pháp|Bộ luật|Luật|Pháp lệnh|Nghị định|Nghị quyết|Quyết định|Thông tư liên tịch|Thông tư|"
    r"Chỉ thị|Kết luận|Quy định|Hướng dẫn|Kế hoạch|Công văn|Thông báo|Chương trình|Đề án)"
    r"(?:[ \t]+số)?[ \t]*(\d+[\w./\-–]*\w)?"
    r"(?:[ \t\n]*(?:ngày|,)[ \t\n]*(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{1,2}[ \t\n]*tháng[ \t\n]*\d{1,2}[ \t\n]*năm[ \t\n]*\d{4}))?"
)
_ARTICLE = re.compile(r"^[ \t|]*(Điều[ \t]+(\d{1,3}))[ \t]*[.:][ \t]*", re.MULTILINE)
_ROMAN_PART = re.compile(r"^[ \t]*((?:[IVX]{1,5}))[.\-–][ \t]+(\S[^\n]{1,150})$", re.MULTILINE)
_RECIPIENTS = re.compile(r"^[ \t|]*(Nơi nhận)[ \t]*:", re.MULTILINE)
_EFFECT = re.compile(
    r"[^.;\n]*?(?:có hiệu lực(?: thi hành)?(?:[ \t]+(?:kể[ \t]+)?từ[ \t]+ngày[^.;\n]*|[ \t]+sau[^.;\n]*)"
    r"|thi hành[^.;\n]{0,60}kể từ ngày ký)",
    re.IGNORECASE,
)
_TABLE_KEYS = {
    "so_hieu": r"Số hiệu",
    "loai_van_ban": r"Loại văn bản",
    "co_quan": r"(?:Cơ quan|Nơi) ban hành",
    "nguoi_ky": r"Người ký",
    "ngay_ban_hanh": r"Ngày ban hành",
    "ngay_hieu_luc": r"Ngày (?:có )?hiệu lực",
    "ngay_cong_bao": r"Ngày công báo",
    "tinh_trang": r"Tình trạng(?: hiệu lực)?",
    "linh_vuc": r"Lĩnh vực",
}
_TABLE = re.compile(
    r"(?P<key>" + "|".join(f"(?P<{k}>{v})" for k, v in _TABLE_KEYS.items()) + r")[ \t]*(?:[:|])[ \t]*"
    r"(?P<val>[^|\n]*?)[ \t]*(?=\||\n|$|" + "|".join(_TABLE_KEYS.values()) + r")",
    re.IGNORECASE,
)
# News pages.
_STORE_DATE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+")
_AGENCY_LEAD = re.compile(r"^\s*(?:\(([^)\n]{2,30})\)|([A-ZĐ]{2,6}))\s*[-–—]\s+")
_DATELINE = re.compile(
    r"^\s*((?:(?:Sáng|Chiều|Tối|Trưa|Đêm)(?:\s+nay)?\s+)?(?:(?:hôm\s+nay|ngày)\s+)?"
    r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{4}))?)\s*[,:]",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"(?:^|(?<=[.!?…]\s))((?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]+)(?:\s+[A-ZĐÀ-Ỹ][a-zà-ỹđ]+){1,3}|PV|[A-ZĐ]{2,5})"
    r"(?:\s*\(([A-ZĐ][\w.\- ]{1,15})\))?\s*$"
)
_CAPTION_MAX = 220  # a photo caption is one short line between paragraphs
_LEAD_MIN = 120  # the lead paragraph of a news page is long


@dataclass(frozen=True)
class Span:
    """A field's value and where it is in the document text (``text[start:end]``)."""

    value: str
    start: int
    end: int

    def to_list(self) -> list[Any]:
        return [self.value, self.start, self.end]

    @classmethod
    def from_list(cls, x: list[Any] | None) -> Span | None:
        return cls(str(x[0]), int(x[1]), int(x[2])) if x else None


@dataclass(frozen=True)
class Reference:
    """A document a legal basis cites: type, number, date (as written)."""

    doc_type: str
    number: str
    date: str
    start: int
    end: int


@dataclass(frozen=True)
class Basis:
    span: Span
    refs: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Article:
    n: int
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Signature:
    authority: Span | None  # "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"
    position: Span | None  # "PHÓ CHỦ TỊCH"
    name: Span | None  # "Nguyễn Văn A"
    start: int
    end: int


@dataclass
class Anatomy:
    """Everything the genre fixes about a document; absent parts are None / empty."""

    genre: str = ""  # van_ban | tin_bai | ""
    motto: Span | None = None
    issuer: Span | None = None
    parent: Span | None = None
    number: Span | None = None
    place: Span | None = None
    date: Span | None = None  # value: ISO yyyy-mm-dd; span: "ngày 03 tháng 10 năm 2023"
    doc_type: Span | None = None  # value: "Quyết định"; span: the type line (or the symbol)
    summary: Span | None = None  # trích yếu
    authority: Span | None = None  # the preamble's authority line
    bases: list[Basis] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    parts: list[Span] = field(default_factory=list)
    effect: Span | None = None
    replaces: list[Span] = field(
        default_factory=list
    )  # "thay thế / bãi bỏ Quyết định số …" up to the last one named
    recipients: Span | None = None
    signature: Signature | None = None
    table: dict[str, Span] = field(default_factory=dict)
    headline: Span | None = None
    published: Span | None = None  # value: ISO date
    dateline: Span | None = None
    agency: Span | None = None
    byline: Span | None = None
    captions: list[Span] = field(default_factory=list)
    province: str = ""  # from the issuing body (NATIONAL for national bodies), else ""
    level: str = ""  # trung ương | tỉnh | huyện | xã | ""
    # Verbatim text of the header and the signature block ({"header": Span(raw text, start, end)}):
    # chunking keeps short upper-case lines as section names, not as passage text, so these parts
    # may be in no chunk; a citation of them is made from this text, which is the file's own.
    blocks: dict[str, Span] = field(default_factory=dict)

    # -- derived -------------------------------------------------------------------------
    @property
    def number_value(self) -> str:
        if self.number:
            return self.number.value
        t = self.table.get("so_hieu")
        return t.value if t else ""

    @property
    def type_value(self) -> str:
        if self.doc_type:
            return self.doc_type.value
        t = self.table.get("loai_van_ban")
        return t.value if t else ""

    @property
    def signer(self) -> Span | None:
        if self.signature and self.signature.name:
            return self.signature.name
        return self.table.get("nguoi_ky")

    def title(self) -> str:
        """A display title: "Kế hoạch 7610/KH-UBND: thực hiện đề án …", or the headline."""
        if self.genre == "tin_bai" and self.headline:
            return self.headline.value
        kind, num = self.type_value, self.number_value
        if not (kind or num):
            return ""
        head = " ".join(x for x in (kind or "Văn bản", num) if x)
        if self.summary:
            return f"{head}: {self.summary.value}"[:200]
        return head

    # -- storage -------------------------------------------------------------------------
    def to_json(self) -> str:
        """Compact JSON (spans as [value, start, end]) for the chunk metadata key ``anatomy``."""

        def enc(x: Any) -> Any:
            if isinstance(x, Span):
                return x.to_list()
            if isinstance(x, list):
                return [enc(v) for v in x]
            if isinstance(x, dict):
                return {k: enc(v) for k, v in x.items()}
            return x

        d: dict[str, Any] = {}
        for k in asdict(self):
            v = getattr(self, k)
            if v in (None, "", [], {}):
                continue
            if k == "bases":
                v = [[b.span.to_list(), [list(asdict(r).values()) for r in b.refs]] for b in v]
            elif k == "articles":
                v = [[a.n, a.title, a.start, a.end] for a in v]
            elif k == "signature":
                v = [enc(v.authority), enc(v.position), enc(v.name), v.start, v.end]
            d[k] = enc(v)
        return json.dumps(d, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | None) -> Anatomy:
        if not raw:
            return cls()
        d = json.loads(raw)
        a = cls()
        for k, v in d.items():
            if k in ("genre", "province", "level"):
                setattr(a, k, v)
            elif k == "bases":
                a.bases = [
                    Basis(Span.from_list(s) or Span("", 0, 0), tuple(Reference(*r) for r in refs))
                    for s, refs in v
                ]
            elif k == "articles":
                a.articles = [Article(int(n), str(t), int(s), int(e)) for n, t, s, e in v]
            elif k == "signature":
                a.signature = Signature(
                    Span.from_list(v[0]), Span.from_list(v[1]), Span.from_list(v[2]), int(v[3]), int(v[4])
                )
            elif k in ("parts", "captions", "replaces"):
                setattr(a, k, [Span.from_list(x) for x in v])
            elif k in ("table", "blocks"):
                setattr(a, k, {kk: Span.from_list(vv) or Span("", 0, 0) for kk, vv in v.items()})
            elif hasattr(a, k):
                setattr(a, k, Span.from_list(v))
        return a


# ---------------------------------------------------------------------------------------------
# helpers


def _is_upper(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= UPPER_SHARE * len(letters)


def _clean(s: str) -> str:
    return " ".join(s.replace("|", " ").split()).strip(" ,;:-–")


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    """Shrink a span to drop surrounding whitespace, pipes and trailing separators."""
    while s < e and text[s] in " \t\n|*_":
        s += 1
    while e > s and text[e - 1] in " \t\n|,;*_":
        e -= 1
    return s, e


def _span(text: str, s: int, e: int, value: str | None = None) -> Span:
    s, e = _trim(text, s, e)
    return Span(_clean(text[s:e]) if value is None else value, s, e)


@dataclass(frozen=True)
class _Cell:
    """A header cell: a run of lines between blank lines, separators and table pipes."""

    start: int
    end: int
    lines: tuple[tuple[int, int], ...]

    def text(self, doc: str) -> str:
        return " ".join(doc[s:e].strip() for s, e in self.lines)


def _cells(text: str, limit: int) -> list[_Cell]:
    """Header cells: lines joined until a blank line, a separator line, a pipe or a tab."""
    out: list[_Cell] = []
    cur: list[tuple[int, int]] = []

    def flush() -> None:
        if cur:
            out.append(_Cell(cur[0][0], cur[-1][1], tuple(cur)))
            cur.clear()

    for m in re.finditer(r"[^\n|\t]+|\n[ \t]*(?=\n)|[|\t]", text[:limit]):
        piece = m.group()
        if piece in ("|", "\t") or not piece.strip() or _SEPARATOR.match(piece):
            flush()
            continue
        cur.append(_trim(text, m.start(), m.end()))
    flush()
    return out


def _iso(day: str, month: str, year: str) -> str:
    try:
        d, mth, y = int(day), int(month), int(year)
    except ValueError:
        return ""
    if not (1 <= d <= 31 and 1 <= mth <= 12 and 1900 <= y <= 2100):
        return ""
    return f"{y:04d}-{mth:02d}-{d:02d}"


def _iso_slash(s: str) -> str:
    m = re.match(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", s.strip())
    return _iso(*m.groups()) if m else ""


def type_of_symbol(number: str) -> str:
    """ "875/QĐ-BNV" → "Quyết định"; "225-KH/TU" → "Kế hoạch"; "5673/BNV-CCVC" → "Công văn"."""
    parts = re.split(r"[/\-–.]", number)
    if re.match(r"\d+-QĐ/", number):
        return ""  # Hướng dẫn 36: a Party "QĐ" is a Quyết định or a Quy định; the symbol cannot tell
    for p in parts[1:]:
        if p in SYMBOL_TYPES:
            return SYMBOL_TYPES[p]
    # A công văn's number carries the body's abbreviation but no type (Nghị định 30, Phụ lục I).
    return "Công văn" if len(parts) >= 2 and not any(p in SYMBOL_TYPES for p in parts) else ""


def _type_at(line: str) -> str:
    up = canonical_tones(line.strip().upper())
    for t in _UPPER_TYPES:
        if up.startswith(canonical_tones(t)):
            return t
    return ""


def _display_type(upper: str) -> str:
    for t in DOC_TYPES:
        if canonical_tones(t.upper()) == canonical_tones(upper):
            return t
    return upper.capitalize()


def _restore_places(original: str, lowered: str) -> str:
    """Put back the capitals of the province names found in ``original`` (same length as ``lowered``)."""
    out = list(lowered)
    for m in find_mentions(original):
        piece = original[m.start : m.end]
        out[m.start : m.end] = list(" ".join(w[:1].upper() + w[1:].lower() for w in piece.split(" ")))
    return "".join(out)


def recase(upper: str) -> str:
    """Sentence case for an upper-case title line, keeping provinces capitalised."""
    src = " ".join(upper.split())
    low = "".join(
        w if any(c.isdigit() for c in w) else w.lower() for w in re.split(r"(\s+)", src)
    )  # "K48", "A207" are codes
    s = _restore_places(src, low)
    return s[:1].upper() + s[1:] if s else s


# Type nouns of bodies (Nghị định 30, Phụ lục II): the syllable after one starts the body's own name.
_BODY_NOUNS = {"bộ", "sở", "ban", "cục", "vụ", "viện", "trường", "đoàn", "hội"}
_COMPOUND_NOUNS = {("ủy", "ban"), ("hội", "đồng")}  # complete types: "Ủy ban nhân dân", "Hội đồng nhân dân"
_NAMED_COMPOUNDS = {("học", "viện"), ("tổng", "cục"), ("văn", "phòng")}  # "Học viện Chính trị …"


def display_body(name: str) -> str:
    """ "ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG" → "Ủy ban nhân dân tỉnh Lâm Đồng"; "BỘ NỘI VỤ" → "Bộ Nội vụ".

    Nghị định 30 (Phụ lục II): the first letter, the first syllable of a body's own name after
    its type noun ("Bộ Nội vụ", "Sở Tài chính", "Ban Tổ chức"), and place names are capitalised.
    A compound type ("Ủy ban nhân dân", "Học viện", "Hội đồng nhân dân") is a common noun.
    """
    src = " ".join(name.split())
    if not _is_upper(src):
        return src
    words = src.lower().split(" ")
    out: list[str] = []
    for i, w in enumerate(words):
        prev = words[i - 1] if i else ""
        compound = i >= 2 and (words[i - 2], prev) in _COMPOUND_NOUNS
        named = i >= 2 and (words[i - 2], prev) in _NAMED_COMPOUNDS
        cap = i == 0 or named or (prev in _BODY_NOUNS and not compound and (prev, w) not in _COMPOUND_NOUNS)
        out.append(w[:1].upper() + w[1:] if cap else w)
    s = _restore_places(src, " ".join(out))
    for kw, disp in (
        ("trung ương", "Trung ương"),
        ("chính phủ", "Chính phủ"),
        ("quốc hội", "Quốc hội"),
        ("hồ chí minh", "Hồ Chí Minh"),
    ):
        s = re.sub(rf"(?<!\w){kw}(?!\w)", disp, s)
    return s


# ---------------------------------------------------------------------------------------------
# parts of a văn bản


def _header_bodies(text: str, cells: list[_Cell], motto_cell: int) -> tuple[Span | None, Span | None]:
    """Issuer and parent body: the upper-case cells just before the motto (or the first body cell)."""
    chosen: list[_Cell] = []
    if motto_cell >= 0:
        i = motto_cell - 1
        while i >= 0:
            t = cells[i].text(text)
            if re.match(r"Số\b|[^,\n]{1,40},\s*ngày", t) and not chosen:
                i -= 1  # Party layout: the number sits between the body and the motto
                continue
            if not _is_upper(t) or _MOTTO.search(t) or re.match(r"Số\b", t):
                break
            chosen.insert(0, cells[i])
            i -= 1
        if not chosen:  # body written after the motto lines
            for c in cells[motto_cell + 1 : motto_cell + 4]:
                t = c.text(text)
                if _MOTTO2.search(t) or _MOTTO.search(t):
                    continue
                if _is_upper(t) and _BODY_START.match(t):
                    chosen = [c]
                break
    else:
        for c in cells[:6]:
            t = c.text(text)
            if _is_upper(t) and _BODY_START.match(t):
                chosen = [c]
                break
    lines = [ln for c in chosen for ln in c.lines if not _PARTY_MOTTO.search(text[ln[0] : ln[1]])]
    if not lines:
        return None, None
    # one body per line, except a line that only continues a name ("TỈNH LÂM ĐỒNG")
    bodies: list[list[tuple[int, int]]] = []
    for s, e in lines:
        ln = text[s:e].strip()
        short = bool(bodies) and len(" ".join(text[a:b] for a, b in bodies[-1]).split()) < 2
        if bodies and (short or _PLACE_LINE.match(ln) or not _BODY_START.match(ln)):
            bodies[-1].append((s, e))
        else:
            bodies.append([(s, e)])
    spans = [_span(text, b[0][0], b[-1][1]) for b in bodies]
    issuer = spans[-1]
    parent = None
    if len(spans) > 1:
        parent = Span(" ".join(sp.value for sp in spans[:-1]), spans[0].start, spans[-2].end)
    return issuer, parent


def _title_and_authority(
    text: str, after: int, limit: int
) -> tuple[Span | None, Span | None, Span | None, int]:
    """Document type line, trích yếu and the authority line, starting at ``after``.

    Returns (type, summary, authority, end of the header).
    """
    doc_type = summary = authority = None
    pos = after
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n|]+", text[:limit]) if m.start() >= after]
    i = 0
    while i < len(lines):
        s, e = lines[i]
        ln = text[s:e].strip()
        if not ln or _SEPARATOR.match(ln):
            i += 1
            continue
        if re.match(r"(?:[-–•+]\s*)?Căn cứ\b", ln) or _ARTICLE.match(ln):
            break
        t = _type_at(ln)
        if t and _is_upper(ln[: len(t) + 1]) and doc_type is None:
            s0, e0 = _trim(text, s, e)
            doc_type = Span(_display_type(t), s0, s0 + len(t))
            rest_s = s0 + len(t)
            summary_lines: list[tuple[int, int]] = []
            if text[rest_s:e].strip():  # "KẾ HOẠCHĐÀO TẠO …" glued, or "QUYẾT ĐỊNH VỀ …"
                summary_lines.append(_trim(text, rest_s, e))
            j = i + 1
            prev_end = e
            while j < len(lines):
                s2, e2 = lines[j]
                l2 = text[s2:e2].strip().strip("*_ ")
                if summary_lines and re.search(r"\n[ \t]*\n", text[prev_end:s2]):
                    break  # a blank line ends the trích yếu
                if not l2 or _SEPARATOR.match(l2):
                    if summary_lines:
                        break
                    j += 1
                    continue
                if _AUTHORITY.match(l2) or re.match(r"Căn cứ|[IVX]{1,5}[.\-–]\s|\d{1,2}[.)]\s", l2):
                    break
                # upper-case title lines, or a mixed-case trích yếu ("về kết quả …", continuing in lower case)
                if not (_is_upper(l2) or l2[:1].islower() or re.match(r"(?:Về|V/v)\b", l2)):
                    break
                summary_lines.append(_trim(text, s2, e2))
                prev_end = e2
                j += 1
            if summary_lines:
                ss, se = summary_lines[0][0], summary_lines[-1][1]
                summary = Span(recase(" ".join(text[a:b] for a, b in summary_lines)), ss, se)
            i = j
            pos = lines[j - 1][1] if j - 1 < len(lines) else e
            continue
        if _AUTHORITY.match(ln) and _is_upper(ln) and authority is None:
            j = i
            a_lines = []
            while j < len(lines) and _is_upper(text[lines[j][0] : lines[j][1]]):
                a_lines.append(lines[j])
                j += 1
            authority = _span(text, a_lines[0][0], a_lines[-1][1])
            pos = a_lines[-1][1]
            i = j
            continue
        if doc_type is not None:
            break
        i += 1
    return doc_type, summary, authority, pos


def _bases(text: str, own_number: str, limit: int) -> list[Basis]:
    out: list[Basis] = []
    starts = [m.start(1) for m in _BASIS.finditer(text[:limit])]
    for k, s in enumerate(starts):
        stop = min(len(text), s + MAX_BASIS_CHARS, starts[k + 1] if k + 1 < len(starts) else len(text))
        seg = text[s:stop]
        m = re.search(
            r";|,[ \t]*\n|\.[ \t]*\n|\n[ \t]*\n|\n(?=[ \t]*(?:Xét|Theo đề nghị|QUYẾT ĐỊNH|Điều))", seg
        )
        e = s + (m.start() if m else len(seg))
        span = _span(text, s, e)
        refs = []
        for r in _REF.finditer(text, s, e):
            num = (r.group(2) or "").strip()
            if own_number and num and num == own_number:
                continue  # a basis is another document, never this one
            if not num and not r.group(3) and r.group(1) not in ("Luật", "Bộ luật", "Hiến pháp", "Pháp lệnh"):
                continue  # "theo Kế hoạch của …" with no number or date names no document
            date = " ".join((r.group(3) or "").split())
            out_e = r.end()
            if r.group(1) in ("Luật", "Bộ luật", "Pháp lệnh") and not num:
                # a law is named, not numbered: "Luật Ngân sách Nhà nước năm 2002"
                mm = re.match(r"[^;,\n]*?(?:năm \d{4}|ngày [\d/]+|(?=;|,|\n|$))", text[r.end() : e])
                out_e = r.end() + (mm.end() if mm else 0)
            refs.append(Reference(r.group(1), num, date, r.start(), out_e))
        out.append(Basis(span, tuple(refs)))
    return out


def _articles(text: str, stop: int) -> list[Article]:
    ms = list(_ARTICLE.finditer(text))
    out: list[Article] = []
    for k, m in enumerate(ms):
        end = ms[k + 1].start() if k + 1 < len(ms) else stop
        end = max(end, m.end())
        first_line = text[m.end() : text.find("\n", m.end()) if "\n" in text[m.end() :] else len(text)]
        s, e = _trim(text, m.start(1), end)
        out.append(Article(int(m.group(2)), _clean(first_line)[:200], s, e))
    return out


def _effect(text: str) -> Span | None:
    found = list(_EFFECT.finditer(text))  # the last one is the final provisions' clause
    m = found[-1] if found else None
    if not m:
        return None
    s, e = _trim(text, m.start(), m.end())
    while s < e and not text[s].isalnum():
        s += 1
    return Span(_clean(text[s:e]), s, e)


# Final provisions: "Quyết định này thay thế Quyết định số …", "bãi bỏ …".
_REPLACES = re.compile(r"\b(thay thế|bãi bỏ)\s+", re.IGNORECASE)


def _replaces(text: str, own_number: str, start_at: int) -> list[Span]:
    """Each "thay thế / bãi bỏ <documents>" clause, from the verb to the last document it names."""
    out: list[Span] = []
    for m in _REPLACES.finditer(text, start_at):
        stop = re.search(r"[.;](?=\s|$)|\n\s*\n", text[m.end() : m.end() + 400])
        end = m.end() + (stop.start() if stop else len(text[m.end() : m.end() + 400]))
        refs = [r for r in _REF.finditer(text, m.end(), end) if r.group(2) and r.group(2) != own_number]
        if not refs or refs[0].start() - m.end() > 40:
            continue  # "bãi bỏ các quy định trái với …" names no document
        out.append(_span(text, m.start(), refs[-1].end()))
    return out


def _signature(text: str, start_at: int) -> Signature | None:
    """The signature block: authority marker(s), position, then the signer's full name."""
    lines = [
        (m.start(), m.end())
        for m in re.finditer(r"[^\n|\t]+", text)
        if m.start() >= start_at and text[m.start() : m.end()].strip()
    ]
    for i, (s, e) in enumerate(lines):
        ln = text[s:e].strip().strip("*_ ")
        if not (_SIGN_MARK.match(ln) and _is_upper(ln)) and not (_POSITION.match(ln) and _is_upper(ln)):
            continue
        authority: list[tuple[int, int]] = []
        position: tuple[int, int] | None = None
        j = i
        while j < len(lines):
            lj = text[lines[j][0] : lines[j][1]].strip().strip("*_ ")
            if _SIGN_MARK.match(lj) and _is_upper(lj):
                authority.append(lines[j])
                j += 1
                continue
            if _POSITION.match(lj) and _is_upper(lj):
                position = lines[j]
                j += 1
                continue
            break
        name: tuple[int, int] | None = None
        k = j
        while k < len(lines) and k <= j + 4:
            lk = text[lines[k][0] : lines[k][1]].strip().strip("*_ ")
            if _SEPARATOR.match(lk) or _SIGNED_NOTE.match(lk):
                k += 1
                continue
            words = lk.split()
            if (
                2 <= len(words) <= 6
                and all(_PERSON_WORD.match(w) for w in words)
                and not all(w.upper() in _NOT_NAME_WORDS for w in words)
                and not _POSITION.match(lk)
                and sum(w.upper() in _NOT_NAME_WORDS for w in words) <= 1
            ):
                name = lines[k]
            break
        if not name and not authority:
            continue  # an upper-case "CHỦ TỊCH …" line in the body, not a signature
        auth_span = _span(text, authority[0][0], authority[-1][1]) if authority else None
        if position is None and authority:  # "KT. CHỦ TỊCH" with the position inside the marker
            last = authority[-1]
            m2 = re.match(r"\s*\S+\.?\s+", text[last[0] : last[1]])
            pos_span: Span | None = _span(text, last[0] + (m2.end() if m2 else 0), last[1])
        else:
            pos_span = _span(text, *position) if position else None
        name_span = None
        if name:
            nm = _clean(text[name[0] : name[1]])
            if _is_upper(nm):
                nm = " ".join(w.capitalize() for w in nm.split())
            name_span = _span(text, name[0], name[1], nm)
        end = (name or position or authority[-1])[1]
        return Signature(auth_span, pos_span, name_span, (authority or [position or lines[i]])[0][0], end)
    return None


def _table(text: str, limit: int) -> dict[str, Span]:
    out: dict[str, Span] = {}
    for m in _TABLE.finditer(text[:limit]):
        key = next(k for k in _TABLE_KEYS if m.group(k))
        val = m.group("val").strip()
        if not val or key in out:
            continue
        s, e = _trim(text, m.start("val"), m.end("val"))
        value = _clean(text[s:e])
        if key.startswith("ngay_"):
            value = _iso_slash(value) or value
        out[key] = Span(value, s, e)
    return out if len(out) >= 2 else {}  # one "Lĩnh vực:" in prose is no header table


# ---------------------------------------------------------------------------------------------
# news pages


def _news(text: str, a: Anatomy) -> None:
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if text[m.start() : m.end()].strip()]
    lead_i = next((i for i, (s, e) in enumerate(lines) if len(text[s:e].strip()) >= _LEAD_MIN), None)
    if lead_i is None:
        return
    head: Span | None = None
    for s, e in lines[:lead_i]:
        ln = text[s:e]
        store = _STORE_DATE.match(ln)
        if store:
            iso = store.group(1)
            a.published = Span(iso, *_trim(text, s + store.start(1), s + store.end(1)))
            s = s + store.end()
            ln = text[s:e]
        full = re.search(r"(\d{1,2}/\d{1,2}/\d{4})", ln)
        if full and len(ln.strip()) <= 80:  # "13/01/2022 02:28 PM", "[ Cập nhật vào ngày (20/08/2015) ]"
            iso = _iso_slash(full.group(1))
            if iso:
                a.published = Span(iso, *_trim(text, s, e))
                continue
        words = ln.replace("•", " ").split()
        if 5 <= len(words) <= 40 and not ln.strip().endswith((".", ";")):
            st = s + (len(ln) - len(ln.lstrip(" •\t")))
            head = _span(text, st, e)
    a.headline = head
    ls, le = lines[lead_i]
    lead = text[ls:le]
    off = ls
    ag = _AGENCY_LEAD.match(lead)
    if ag:
        g = 1 if ag.group(1) else 2
        a.agency = Span(ag.group(g), off + ag.start(g), off + ag.end(g))
        lead_rest = ag.end()
    else:
        lead_rest = 0
    dl = _DATELINE.match(lead[lead_rest:])
    if dl:
        s1 = off + lead_rest + dl.start(1)
        e1 = off + lead_rest + dl.end(1)
        day, month, year = dl.group(2), dl.group(3), dl.group(4)
        if not year and a.published:
            year = a.published.value[:4]
        a.dateline = Span(_iso(day, month, year) if year else f"--{int(month):02d}-{int(day):02d}", s1, e1)
    # byline (and an agency in brackets after it) on the last lines
    for s, e in reversed(lines[-3:]):
        ln = text[s:e].strip()
        if not re.search(r"\w", ln) or ln in ("Xem",):
            continue
        m = _BYLINE.search(ln)
        if m and (len(ln) <= 40 or m.start() > 0):
            off2 = s + (len(text[s:e]) - len(text[s:e].lstrip()))
            name = m.group(1)
            if name.upper() not in _NOT_NAME_WORDS:
                a.byline = Span(name, off2 + m.start(1), off2 + m.end(1))
                if m.group(2) and not a.agency:
                    a.agency = Span(m.group(2), off2 + m.start(2), off2 + m.end(2))
            break
        if len(ln) > 40:
            break
    # photo captions: a short standalone line between paragraphs, no sentence end, or "Ảnh:"
    for k in range(lead_i + 1, len(lines) - 1):
        s, e = lines[k]
        ln = text[s:e].strip()
        if len(ln) > _CAPTION_MAX or (a.byline and s <= a.byline.start < e):
            continue
        before = text[lines[k - 1][0] : lines[k - 1][1]].strip()
        after = text[lines[k + 1][0] : lines[k + 1][1]].strip()
        credit = re.search(r"\bẢnh\s*:", ln)
        stand_alone = len(before) > len(ln) and len(after) > len(ln)
        if credit or (stand_alone and not re.search(r"[.:;!?…]$", ln) and len(ln.split()) >= 4):
            a.captions.append(_span(text, s, e))


# ---------------------------------------------------------------------------------------------
# entry point


def parse(text: str) -> Anatomy:
    """Parse a document's anatomy; every span indexes ``text`` itself."""
    text = unicodedata.normalize("NFC", text)
    a = Anatomy()
    limit = min(len(text), HEADER_CHARS)
    a.table = _table(text, limit)
    cells = _cells(text, limit)
    motto_cell = -1
    for i, c in enumerate(cells):
        t = c.text(text)
        m = _MOTTO.search(t) or _PARTY_MOTTO.search(t)
        if m:
            motto_cell = i
            mm = _MOTTO.search(text, c.start, c.end) or _PARTY_MOTTO.search(text, c.start, c.end)
            if mm:
                a.motto = Span(_clean(mm.group()), mm.start(), mm.end())
            else:  # split over lines: the whole cell
                a.motto = _span(text, c.start, c.end)
            break
    a.issuer, a.parent = _header_bodies(text, cells, motto_cell)
    header_from = min(
        [cells[motto_cell].start] if motto_cell >= 0 else [] + ([a.issuer.start] if a.issuer else []) or [0]
    )
    if a.issuer:
        header_from = min(header_from, a.issuer.start)
    num = next((m for m in _NUMBER.finditer(text, header_from, limit)), None)
    if num and (a.motto or a.issuer):
        a.number = Span(
            num.group(1).rstrip(".,;"), num.start(1), num.start(1) + len(num.group(1).rstrip(".,;"))
        )
    pd = next((m for m in _PLACE_DATE.finditer(text, header_from, limit)), None)
    if pd and (a.motto or a.issuer or a.number):
        a.place = _span(text, pd.start(1), pd.end(1))
        a.date = Span(_iso(pd.group(3), pd.group(4), pd.group(5)), pd.start(2), pd.end(2))
    type_line = None if (a.motto or a.number) else _TYPE_LINE.search(text[:TYPE_LINE_CHARS])
    if type_line and not _type_at(type_line.group(1)):
        type_line = None
    if a.motto or a.number or type_line:
        a.genre = "van_ban"
        heads = [x.end for x in (a.motto, a.number, a.date, a.issuer) if x]
        after = max(heads) if heads else (type_line.start(1) if type_line else 0)
        a.doc_type, a.summary, a.authority, header_end = _title_and_authority(text, after, limit)
        if a.doc_type is None and a.number:
            kind = type_of_symbol(a.number.value)
            if kind:
                a.doc_type = Span(kind, a.number.start, a.number.end)
        if a.doc_type and a.doc_type.value == "Công văn" or (a.doc_type is None and a.number):
            vv = re.search(r"^[ \t|]*(V/v|Về việc)[ \t:]*([^\n|]+)", text[header_from:limit], re.M | re.I)
            if vv:
                s = header_from + vv.start(2)
                a.summary = _span(text, s, header_from + vv.end(2))
        a.bases = _bases(text, a.number.value if a.number else "", len(text))
        tail_from = max(header_end, len(text) - TAIL_CHARS)
        recs = list(_RECIPIENTS.finditer(text, header_end))
        rec = recs[-1] if recs else None
        sign = _signature(text, max(tail_from, rec.start() if rec else 0))
        if sign is None and rec is not None:
            sign = _signature(text, rec.start())
        a.signature = sign
        if rec:
            r_end = sign.start if sign and sign.start > rec.start() else min(len(text), rec.start() + 800)
            a.recipients = _span(text, rec.start(1), r_end)
        stop = min(
            x for x in (rec.start() if rec else len(text), sign.start if sign else len(text), len(text))
        )
        a.articles = [x for x in _articles(text, stop) if x.start >= header_end]
        a.parts = [
            _span(text, m.start(), m.end())
            for m in _ROMAN_PART.finditer(text, header_end)
            if _is_upper(m.group(2)[:30]) or len(m.group(2)) < 80
        ]
        a.effect = _effect(text)
        a.replaces = _replaces(text, a.number.value if a.number else "", header_end)
    elif a.table:
        a.genre = "van_ban"
        a.effect = _effect(text)
    else:
        _news(text, a)
        if a.headline or a.dateline or a.agency or a.byline:
            a.genre = "tin_bai"
    # the province and level it speaks for: the issuing body, its parent, the authority line,
    # then a web page's "Cơ quan ban hành"
    for body in (a.issuer, a.parent, a.authority, a.table.get("co_quan")):
        if body is None:
            continue
        prov = province_of_body(body.value)
        if prov:
            a.province = prov
            a.level = level_of_body(body.value) or ("trung ương" if prov == NATIONAL else "tỉnh")
            if prov != NATIONAL or body is a.issuer:
                break
    if a.issuer and a.authority and not province_of_body(a.issuer.value):
        # "ỦY BAN NHÂN DÂN" in the header, "ỦY BAN NHÂN DÂN TỈNH X" in the preamble: the latter names it
        first = a.authority.value.split("\n")[0]
        line_end = text.find("\n", a.authority.start)
        line_end = a.authority.end if line_end < 0 else min(line_end, a.authority.end)
        if bare(first).startswith(bare(a.issuer.value)) and province_of_body(
            text[a.authority.start : line_end]
        ):
            a.issuer = _span(text, a.authority.start, line_end)
    if a.table.get("co_quan") and not a.issuer:
        a.issuer = a.table["co_quan"]
    _add_blocks(text, a)
    return a


def _add_blocks(text: str, a: Anatomy) -> None:
    head = [
        x
        for x in (
            a.issuer, a.parent, a.motto, a.number, a.place, a.date, a.doc_type, a.summary, a.authority,
            a.headline, a.published, a.dateline, a.agency, *a.table.values(),
        )
        if x is not None and x.end <= HEADER_CHARS
    ]  # fmt: skip
    if head:
        s, e = min(x.start for x in head), max(x.end for x in head)
        a.blocks["header"] = Span(text[s:e], s, e)
    if a.signature:
        s, e = a.signature.start, a.signature.end
        a.blocks["signature"] = Span(text[s:e], s, e)


def bare(text: str) -> str:
    """Accent-free lower-case form, for matching question words against fields."""
    return strip_accents(text)
