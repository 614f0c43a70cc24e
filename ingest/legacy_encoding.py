"""Vietnamese text typed in the pre-Unicode font encodings TCVN3 (ABC) and VNI-Windows.

Owns the two standard tables, the detection, and the conversion to Unicode NFC.

Before Unicode, Vietnamese offices typed with *fonts* that drew Vietnamese letters in the slots
of Western characters: TCVN 5712:1993 "VN3" (ABC; fonts ".VnTime", ".VnArial", uppercase
variants ".VnTimeH") puts each toned lowercase letter in one byte ("§µo t¹o" is "Đào tạo");
VNI-Windows (fonts "VNI-Times", "VNI-Helve") writes a base letter followed by a mark character
("ñaøo taïo"). A file in such an encoding reads as Latin-1 gibberish to any other program.

Detection never guesses from one character: a reading is accepted when nearly all its words
that carry a non-ASCII letter are well-formed Vietnamese syllables (onset + vowel nucleus + coda,
at most one tone mark: the language's own phonotactics) and it beats the text as it stands
(or as Windows-1258) by a clear margin. Real Unicode Vietnamese already reads as Vietnamese,
so it is never converted; German or Russian text reads as Vietnamese under no table.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

__all__ = [
    "LegacyEncoding",
    "convert",
    "detect_bytes",
    "detect_text",
    "font_encoding",
    "is_uppercase_font",
    "vietnamese_share",
]

LegacyEncoding = Literal["tcvn3", "vni"]

# A reading is believed when at least this share of its non-ASCII words are Vietnamese syllables
# (real Vietnamese text scores ~1.0; a wrong table leaves most toned words malformed).
MIN_SHARE = 0.8
# ... and beats the competing reading (the text as it is, or Windows-1258) by this much, so a
# text that already reads as Vietnamese is never "converted".
MARGIN = 0.3
# Fewer non-ASCII words than this are too little evidence to convert anything.
MIN_WORDS = 3
# Detection reads this many characters from the start (tens of thousands of words is plenty of
# evidence); the conversion then applies to the whole text.
SAMPLE_CHARS = 100_000

# --- TCVN3 (TCVN 5712:1993, VN3): one byte per toned lowercase letter -----------------------
# Keys are the characters those bytes show as in Windows-1252/Latin-1 (how Word keeps them).
_TCVN3_ROWS = (
    # base letter, then the bytes for: no tone, huyền, sắc, hỏi, ngã, nặng
    ("a", "a", "µ", "¸", "¶", "·", "¹"),
    ("ă", "¨", "»", "¾", "¼", "½", "Æ"),
    ("â", "©", "Ç", "Ê", "È", "É", "Ë"),
    ("e", "e", "Ì", "Ð", "Î", "Ï", "Ñ"),
    ("ê", "ª", "Ò", "Õ", "Ó", "Ô", "Ö"),
    ("i", "i", "×", "Ý", "Ø", "Ü", "Þ"),
    ("o", "o", "ß", "ã", "á", "â", "ä"),
    ("ô", "«", "å", "è", "æ", "ç", "é"),
    ("ơ", "¬", "ê", "í", "ë", "ì", "î"),
    ("u", "u", "ï", "ó", "ñ", "ò", "ô"),
    ("ư", "\u00ad", "õ", "ø", "ö", "÷", "ù"),
    ("y", "y", "ú", "ý", "û", "ü", "þ"),
)
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # none, huyền, sắc, hỏi, ngã, nặng


def _tcvn3_table() -> dict[str, str]:
    table = {"®": "đ", "§": "Đ", "¡": "Ă", "¢": "Â", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư"}
    for base, *codes in _TCVN3_ROWS:
        for code, tone in zip(codes, _TONES, strict=True):
            if code != base:
                table[code] = unicodedata.normalize("NFC", base + tone)
    return table


_TCVN3 = _tcvn3_table()
_TCVN3_TRANS = str.maketrans(_TCVN3)

# --- VNI-Windows: base letter + mark character ---------------------------------------------
# Marks for sắc, huyền, hỏi, ngã, nặng after a plain vowel (and after ơ/ư) ...
_VNI_TONE = ("ù", "ø", "û", "õ", "ï")
# ... after a circumflex vowel (â ê ô), and after a breve (ă), where the mark carries both.
_VNI_CIRC = ("â", ("á", "à", "å", "ã", "ä"))
_VNI_BREVE = ("ê", ("é", "è", "ú", "ü", "ë"))
_VNI_I = ("í", "ì", "æ", "ó", "ò")  # i with a tone is one character
_VNI_ORDER = ("\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # sắc, huyền, hỏi, ngã, nặng


def _vni_table() -> dict[str, str]:
    pairs: dict[str, str] = {}

    def add(code: str, letter: str) -> None:
        nfc = unicodedata.normalize("NFC", letter)
        pairs[code] = nfc
        pairs[code.upper()] = nfc.upper()
        if len(code) == 2:  # "Aù": capital base, small mark (seen in title-cased text)
            pairs[code[0].upper() + code[1]] = nfc.upper()

    for vowel in "aeouy":
        for mark, tone in zip(_VNI_TONE, _VNI_ORDER, strict=True):
            add(vowel + mark, vowel + tone)
    for horned, code in (("ơ", "ô"), ("ư", "ö")):
        add(code, horned)
        for mark, tone in zip(_VNI_TONE, _VNI_ORDER, strict=True):
            add(code + mark, horned + tone)
    for vowel, circ in (("a", "â"), ("e", "ê"), ("o", "ô")):
        add(vowel + _VNI_CIRC[0], circ)
        for mark, tone in zip(_VNI_CIRC[1], _VNI_ORDER, strict=True):
            add(vowel + mark, circ + tone)
    add("a" + _VNI_BREVE[0], "ă")
    for mark, tone in zip(_VNI_BREVE[1], _VNI_ORDER, strict=True):
        add("a" + mark, "ă" + tone)
    for mark, tone in zip(_VNI_I, _VNI_ORDER, strict=True):
        add(mark, "i" + tone)
    add("î", "y\u0323")  # ỵ has its own character in VNI
    add("ñ", "đ")
    return pairs


_VNI = _vni_table()


def _vni_to_unicode(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        two = text[i : i + 2]
        if len(two) == 2 and two in _VNI:
            out.append(_VNI[two])
            i += 2
            continue
        out.append(_VNI.get(text[i], text[i]))
        i += 1
    return "".join(out)


def convert(text: str, encoding: LegacyEncoding, uppercase: bool = False) -> str:
    """Unicode NFC for text typed in ``encoding`` (as the characters its bytes show in Latin-1).

    ``uppercase``: the run used an uppercase-only TCVN3 font (".VnTimeH"), which draws the
    lowercase slots as capitals.
    """
    converted = text.translate(_TCVN3_TRANS) if encoding == "tcvn3" else _vni_to_unicode(text)
    if uppercase:
        converted = converted.upper()
    return unicodedata.normalize("NFC", converted)


# --- font names -------------------------------------------------------------------------
_TCVN3_FONT = re.compile(r"^\.?vn[a-z]", re.I)  # ".VnTime", ".VnArial NarrowH", "VnTimeH"
_VNI_FONT = re.compile(r"^vni[- _]", re.I)  # "VNI-Times", "VNI-Helve"


def font_encoding(font_name: str | None) -> LegacyEncoding | None:
    """The legacy encoding a font name implies ("VNI-Times" → "vni"), or None."""
    if not font_name:
        return None
    name = font_name.strip()
    if _VNI_FONT.match(name):
        return "vni"
    if _TCVN3_FONT.match(name):
        return "tcvn3"
    return None


def is_uppercase_font(font_name: str | None) -> bool:
    """TCVN3 uppercase font families end in "H" (".VnTimeH", ".VnArialH")."""
    return bool(font_name) and font_encoding(font_name) == "tcvn3" and font_name.strip().endswith("H")  # type: ignore[union-attr]


# --- detection --------------------------------------------------------------------------
_ONSET = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx]"
_NUCLEUS = (
    "iêu|yêu|oai|oao|oay|oeo|uây|uôi|ươi|ươu|uya|uyê|uyu|"
    "ai|ao|au|ay|âu|ây|eo|êu|ia|iê|iu|oa|oă|oe|oi|oo|ôi|ơi|ua|uâ|uê|ui|uô|uơ|uy|ưa|ưi|ươ|ưu|yê|"
    "[aăâeêioôơuưy]"
)
_CODA = "ch|ng|nh|[cmnpt]"
_SYLLABLE = re.compile(rf"(?:{_ONSET})?(?:{_NUCLEUS})(?:{_CODA})?")
_TONE_MARKS = frozenset(_TONES[1:])
_EDGE = "\"'()[]{}.,;:!?-–—…“”‘’/*"


def _is_syllable(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in decomposed if ch in _TONE_MARKS)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    return _SYLLABLE.fullmatch(bare) is not None


def vietnamese_share(text: str) -> tuple[float, int]:
    """(share of well-formed Vietnamese syllables, number judged) over the words with a non-ASCII
    character; ASCII-only words say nothing about an encoding and are not counted."""
    judged = valid = 0
    for raw in unicodedata.normalize("NFC", text).split():
        word = raw.strip(_EDGE)
        if not word or word.isascii() or any(ch.isdigit() for ch in word):
            continue
        judged += 1
        valid += _is_syllable(word)
    return (valid / judged if judged else 0.0), judged


def detect_text(text: str) -> LegacyEncoding | None:
    """The legacy encoding ``text`` (already Unicode: a UTF-8 file, a Word run) is typed in, or None.

    None unless converting makes it read as Vietnamese and it does not already.
    """
    sample = text[:SAMPLE_CHARS]
    as_is, judged = vietnamese_share(sample)
    if judged < MIN_WORDS:
        return None
    best: tuple[float, LegacyEncoding | None] = (as_is + MARGIN, None)
    for encoding in ("tcvn3", "vni"):
        share, n = vietnamese_share(convert(sample, encoding))  # type: ignore[arg-type]
        if n >= MIN_WORDS and share >= MIN_SHARE and share > best[0]:
            best = (share, encoding)  # type: ignore[assignment]
    return best[1]


_CP1252_GAPS = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})  # bytes Windows-1252 leaves undefined


def latin1_view(data: bytes) -> str:
    """The characters legacy-font bytes showed as on Windows: cp1252, Latin-1 in cp1252's gaps."""
    return "".join(
        chr(b) if b < 0x80 or b > 0x9F or b in _CP1252_GAPS else bytes([b]).decode("cp1252") for b in data
    )


def detect_bytes(data: bytes, cp1258_text: str | None) -> tuple[str, LegacyEncoding] | None:
    """For bytes that are not UTF-8: (Unicode text, encoding) when they are TCVN3 or VNI, else None.

    ``cp1258_text`` is the Windows-1258 decoding (None if it failed): the legacy reading must beat
    it by :data:`MARGIN`, so a genuine Windows-1258 file keeps its own decoding.
    """
    view = latin1_view(data[:SAMPLE_CHARS])
    rival = vietnamese_share(cp1258_text[:SAMPLE_CHARS])[0] if cp1258_text is not None else 0.0
    best: tuple[float, LegacyEncoding | None] = (rival + MARGIN, None)
    for encoding in ("tcvn3", "vni"):
        share, n = vietnamese_share(convert(view, encoding))  # type: ignore[arg-type]
        if n >= MIN_WORDS and share >= MIN_SHARE and share > best[0]:
            best = (share, encoding)  # type: ignore[assignment]
    if best[1] is None:
        return None
    return convert(latin1_view(data), best[1]), best[1]
