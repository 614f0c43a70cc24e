"""The LLM paths of the assistant with the real bundled model (slow on 2 cores, still run in CI).

Whatever the model writes, what reaches the user is grounded: either the model's text passed the
check (figures in cited passages, markers resolve, enough provinces), or it was replaced by the
extractive answer — never shown as is.
"""

from __future__ import annotations

import re

import pytest

from assistant.grounding import check
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.understanding import understand

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm_assistant(corpus_settings: Settings) -> Assistant:
    s = corpus_settings.model_copy(update={"llm": "local", "llm_max_tokens": 160})
    return Assistant.from_settings(s)


def _markers_resolve(text: str, ns: set[int]) -> bool:
    return {int(m) for m in re.findall(r"\[(\d+)\]", text)} <= ns


def test_draft_through_the_llm_is_grounded_and_multi_province(llm_assistant: Assistant) -> None:
    q = "nâng cao chất lượng đào tạo, bồi dưỡng cán bộ, công chức cấp xã"
    streamed = []
    final = None
    for text, ans in llm_assistant.stream(q, mode="draft"):
        if ans is None:
            streamed.append(text)
        else:
            final = ans
    assert final is not None and not final.refused
    assert final.path in ("llm", "extractive")
    if final.path == "extractive":
        assert final.notes, "a replaced LLM draft says why"
    assert len({c.province for c in final.citations}) >= 2
    assert _markers_resolve(final.answer, {c.n for c in final.citations})
    assert check(final.answer, final.citations, understand(q)).ok
    # every partial text shown while streaming was itself checked
    for partial in streamed:
        assert (
            check(partial, final.citations if final.path == "llm" else [], understand(q)).ok
            or final.path == "extractive"
        )
    assert "llm" in final.timings_ms


def test_learn_explanation_through_the_llm_is_grounded(llm_assistant: Assistant) -> None:
    q = "Vì sao cán bộ ngại học lý luận chính trị tập trung?"
    ans = llm_assistant.ask(q, mode="learn")
    if not ans.refused:
        assert ans.citations
        assert check(ans.answer, ans.citations, understand(q)).ok


def test_trap_is_refused_even_with_the_llm(llm_assistant: Assistant) -> None:
    ans = llm_assistant.ask("Lào Cai có bao nhiêu cán bộ học thạc sĩ?")
    assert ans.refused and "935" not in ans.answer


def test_figure_questions_do_not_wait_for_the_llm(llm_assistant: Assistant) -> None:
    ans = llm_assistant.ask("Nghệ An đào tạo bao nhiêu thạc sỹ?")
    assert "935" in ans.answer and ans.path == "extractive"
    assert "llm" not in ans.timings_ms
