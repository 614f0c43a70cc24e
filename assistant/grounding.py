"""The grounding check that runs on every answer, whatever produced it.

An answer passes only if every figure, date, percentage and document number in it is
written in a passage it cites, every marker resolves, and the place and period asked
about match the cited passages. A failing answer is never shown as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.citations import dangling_markers, markers
from assistant.figures import extract_figures, ungrounded_figures
from assistant.types import Citation
from assistant.understanding import PROVINCE_FIGURE_KINDS, Query
from ingest.provinces import NATIONAL, find_provinces, scope_of


@dataclass
class Grounding:
    ok: bool
    problems: list[str] = field(default_factory=list)


def check(
    answer: str, citations: list[Citation], query: Query | None = None, refused: bool = False
) -> Grounding:
    problems: list[str] = []
    if refused:
        return Grounding(True)
    dangling = dangling_markers(answer, citations)
    if dangling:
        problems.append(f"dấu trích dẫn không trỏ tới đoạn nào / dangling markers: {dangling}")
    used = set(markers(answer))
    cited = [c for c in citations if c.n in used]
    sources = [f"{c.passage.text}\n{c.passage.title}\n{c.passage.section}" for c in cited]
    bad = ungrounded_figures(answer, sources)
    if bad:
        problems.append(
            "số liệu không có trong đoạn được trích / figures not in cited passages: "
            + ", ".join(f.raw for f in bad)
        )
    if query is not None and cited:
        asked = set(query.provinces)
        # a current province speaks through the former provinces merged into it
        reach = asked | {p for a in asked for p in scope_of(a, query.years)}
        if asked:
            for c in cited:
                text_provs = set(find_provinces(c.passage.text))
                if c.province == NATIONAL and query.kind not in PROVINCE_FIGURE_KINDS:
                    continue  # the law applies everywhere (never a province's own statistic)
                if c.province == "" and text_provs <= reach:
                    continue  # a document filed under no province that names no other one
                if c.province not in reach and not (reach & text_provs):
                    problems.append(
                        f"đoạn [{c.n}] thuộc {c.province or 'tỉnh khác'}, câu hỏi về {', '.join(sorted(asked))}"
                        " / cited passage is about another province"
                    )
        named = set(find_provinces(answer)) - reach
        cited_provs = {c.province for c in cited} | {p for c in cited for p in find_provinces(c.passage.text)}
        stray = named - cited_provs
        if stray:
            problems.append(
                f"tỉnh không có trong trích dẫn / province not in citations: {', '.join(sorted(stray))}"
            )
        for a, b in query.years:
            years = {str(y) for y in range(a, b + 1)}
            if not any(
                any(y in (c.passage.text + c.passage.period + c.passage.title) for y in years)
                or _period_covers(c.passage.period, a, b)
                for c in cited
            ):
                problems.append(f"giai đoạn {a}-{b} không khớp trích dẫn / period does not match citations")
    if not cited and not refused and _has_figure(answer):
        problems.append("câu trả lời có số liệu nhưng không trích dẫn / figures without a citation")
    return Grounding(not problems, problems)


def _period_covers(period: str, a: int, b: int) -> bool:
    digits = [int(x) for x in re.findall(r"(?:19|20)\d{2}", period)]
    if not digits:
        return False
    return min(digits) <= a and b <= max(digits)


def _has_figure(text: str) -> bool:
    return bool(extract_figures(text))
