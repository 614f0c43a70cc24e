"""Numbered citations: every marker in an answer resolves to an exact span of a passage."""

from __future__ import annotations

import re

from assistant.types import Citation, Passage

MARKER = re.compile(r"\[(\d{1,2})\]")


def make_citation(n: int, passage: Passage, start: int | None = None, end: int | None = None) -> Citation:
    """Citation of ``passage`` (or of the span ``start:end`` inside it, absolute offsets)."""
    s = passage.start if start is None else start
    e = passage.end if end is None else end
    if not (passage.start <= s <= e <= passage.end):
        raise ValueError(f"span {s}:{e} is outside passage {passage.start}:{passage.end}")
    quote = passage.text[s - passage.start : e - passage.start]
    return Citation(n=n, start=s, end=e, quote=quote, passage=passage)


def markers(text: str) -> list[int]:
    return [int(m.group(1)) for m in MARKER.finditer(text)]


def dangling_markers(text: str, citations: list[Citation]) -> list[int]:
    """Markers that point at no citation (a bug wherever they appear)."""
    known = {c.n for c in citations}
    return sorted({n for n in markers(text) if n not in known})


def renumber(text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Keep only cited sources, numbered 1..n in order of first use; unknown markers are dropped."""
    by_n = {c.n: c for c in citations}
    order: list[int] = []
    for n in markers(text):
        if n in by_n and n not in order:
            order.append(n)
    new_n = {old: i + 1 for i, old in enumerate(order)}

    def sub(m: re.Match[str]) -> str:
        old = int(m.group(1))
        return f"[{new_n[old]}]" if old in new_n else ""

    out = MARKER.sub(sub, text)
    out = re.sub(r"\s+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", out)).strip()
    kept = [by_n[old].renumbered(new_n[old]) for old in order]
    return out, kept


def attribute_single_source(text: str, citations: list[Citation]) -> str:
    """Append the marker of the only passage an answer was written from, when it cites none.

    Why: the small local model often drops "[1]" even with one passage in its context. The
    provenance is not in doubt then, so the marker is added and the answer still has to pass
    the grounding check like any other. With several passages nothing is guessed.
    """
    body = text.rstrip()
    if len(citations) != 1 or not body or markers(body):
        return text
    n = citations[0].n
    if body[-1] in ".!?…":
        return f"{body[:-1].rstrip()} [{n}]{body[-1]}"
    return f"{body} [{n}]"
