"""Vietnamese text normalization shared by documents and queries.

Three forms of the same text are used:

* ``normalize_text`` — display-safe cleanup (NFC, one tone-mark placement, NBSP and
  whitespace). It never changes the length of NFC input except for whitespace, so it is
  used on text that is indexed, never on the text whose offsets are cited.
* ``fold`` — the lexical matching form: lower case, ``y``→``i`` (sĩ = sỹ, kỉ = kỷ).
* ``strip_accents`` — the diacritics-free form, so "nghe an dao tao thac sy" matches.

Queries and documents go through the very same functions, which is what makes
"uỷ"/"ủy", "hoà"/"hòa", "sĩ"/"sỹ" and accent-free queries all meet.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng (combining, NFD)
# Old-style placement: tone on the second vowel of an open "oa/oe/uy" syllable ("hoà", "uỷ",
# "khoá"). Canonical here: on the first vowel ("hòa", "ủy", "khóa"). "qu" + vowel is a
# consonant cluster, so "quý" is left alone.
_OLD_TONE = re.compile(rf"(?<![qQ])([oOuU])([aAeEyY])([{_TONES}])(?![A-Za-z\u0300-\u036f\u0110\u0111])")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_MULTI_NL = re.compile(r"\n{3,}")

_Y_TO_I = str.maketrans({"y": "i", "ý": "í", "ỳ": "ì", "ỷ": "ỉ", "ỹ": "ĩ", "ỵ": "ị"})


def canonical_tones(text: str) -> str:
    """Move old-style tone marks (hoà, uỷ) to one canonical placement (hòa, ủy)."""
    decomposed = unicodedata.normalize("NFD", text)
    moved = _OLD_TONE.sub(lambda m: m.group(1) + m.group(3) + m.group(2), decomposed)
    return unicodedata.normalize("NFC", moved)


def normalize_text(text: str) -> str:
    """NFC, canonical tones, NBSP/odd spaces to one space, trimmed lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = canonical_tones(text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _MULTI_NL.sub("\n\n", text).strip()


def fold(text: str) -> str:
    """Lexical matching form: normalized, lower case, i/y variants merged."""
    return normalize_text(text).lower().translate(_Y_TO_I)


def strip_accents(text: str) -> str:
    """Diacritics-free form ("Nghệ An" → "nghe an"), for queries typed without accents."""
    return _bare(fold(text))


@lru_cache(maxsize=200_000)
def _bare(folded: str) -> str:
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")


_WORD = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+", re.UNICODE)


def syllables(text: str) -> list[str]:
    """Folded syllables and numbers; numbers lose their thousands dots (72.810 → 72810)."""
    out: list[str] = []
    for m in _WORD.finditer(fold(text)):
        tok = m.group(0)
        if tok[0].isdigit():
            tok = canonical_number(tok)
        out.append(tok)
    return out


def canonical_number(token: str) -> str:
    """Vietnamese number token to a canonical form: '72.810' → '72810', '50,4%' → '50.4%'."""
    pct = token.endswith("%")
    core = token.rstrip("%")
    # "." groups thousands when every group after it has exactly three digits.
    parts = core.split(",")
    integer = parts[0]
    groups = integer.split(".")
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        integer = "".join(groups)
    out = integer + ("." + parts[1] if len(parts) > 1 else "")
    return out + ("%" if pct else "")


def lexical_tokens(text: str) -> list[str]:
    """Tokens for the BM25 index and for BM25 queries (the same function on both sides).

    Accented syllables, their accent-free forms and accent-free syllable bigrams: the
    bigrams stand in for word segmentation ("thac_si" is one Vietnamese word), and the
    accent-free forms let an unaccented query meet accented text.
    """
    sylls = syllables(text)
    bare = [_bare(s) for s in sylls]
    tokens = list(sylls)
    tokens.extend(b for s, b in zip(sylls, bare, strict=True) if b != s)
    tokens.extend(f"{a}_{b}" for a, b in zip(bare, bare[1:], strict=False))
    return tokens


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic (or đ)."""
    return strip_accents(text) != fold(text)
