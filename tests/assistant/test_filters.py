"""The user's province filter and the province a question names, on the real corpus."""

from __future__ import annotations

from typing import Any

QUESTION = "Nghệ An đào tạo bao nhiêu thạc sỹ?"


def test_a_filter_that_excludes_the_province_asked_refuses_and_says_why(assistant: Any) -> None:
    ans = assistant.ask(QUESTION, provinces=["Lạng Sơn"])
    assert ans.refused, ans.answer  # never Lạng Sơn's figure for a Nghệ An question
    assert "bộ lọc" in ans.answer and "Nghệ An" in ans.answer and "Lạng Sơn" in ans.answer
    assert not ans.citations


def test_a_filter_that_includes_the_province_asked_answers_from_it_only(assistant: Any) -> None:
    ans = assistant.ask(QUESTION, provinces=["Lạng Sơn", "Nghệ An"])
    assert not ans.refused and "935" in ans.answer, ans.answer
    assert {c.province for c in ans.citations} == {"Nghệ An"}


def test_a_filter_alone_scopes_a_question_that_names_no_province(assistant: Any) -> None:
    ans = assistant.ask("Có bao nhiêu cán bộ được cử đi học thạc sỹ?", provinces=["Nghệ An"])
    assert not ans.refused and {c.province for c in ans.citations} == {"Nghệ An"}, ans.answer
