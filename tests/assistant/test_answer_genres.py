"""Answers over documents of the genres officials keep (issue 10, the answering side): enumerated
results, a headline figure beside a sub-figure, a dateline without a year, the 2025 merger of
provinces, national documents, a document that names no province, a period the document does not
cover, and two documents that disagree. Real index (real Chroma, real e5) over the fixture folder
``tests/fixtures/answers`` (our own words, invented figures), extractive path, no LLM.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.figures import ungrounded_figures
from assistant.grounding import check
from assistant.settings import PROJECT_ROOT, Settings
from assistant.types import Answer
from assistant.understanding import understand

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "answers"
VP = "bc-truong-chinh-tri-vinh-phuc-2023.txt"
HB_NEWS, HB_REPORT = "tin-hoa-binh-trung-cap.txt", "bc-ban-to-chuc-hoa-binh.txt"
LC, YB = "bc-lao-cai-can-bo-xa.txt", "bc-yen-bai-can-bo-xa.txt"
BNV = "hd-bo-noi-vu-sau-dai-hoc.txt"
NO_PROVINCE = "lop-nghiep-vu-van-phong.txt"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from assistant.service import Assistant
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("answers")
    settings = Settings(
        corpus_dir=FIXTURES,
        index_dir=root / "index",
        cache_dir=PROJECT_ROOT / "var" / "cache",
        feedback_log=root / "feedback.jsonl",
        llm="none",
    )
    report = run_ingest(settings)
    assert not report.errors, report.errors
    yield Assistant.from_settings(settings)


def _ask(bot: object, question: str) -> Answer:
    ans: Answer = bot.ask(question)  # type: ignore[attr-defined]
    _pasteable(ans, question)
    return ans


def _pasteable(ans: Answer, question: str) -> None:
    """What every answer must be: whole sentences, figures from the cited spans, no diagnostics."""
    if ans.refused:
        return
    text = ans.answer
    for line in text.split("\n"):
        body = line.lstrip("- ").strip()
        assert body and not re.match(r"^[/,.;:)\]–-]", body), f"starts mid-token: {line!r}"
        assert body.endswith((".", ":")), f"not a whole sentence: {line!r}"
    assert not re.search(r"\s(?:và|với|của|các|tại|cho)\s*\[\d+\]", text), f"ends mid-phrase: {text!r}"
    for note in ans.notes:
        assert note not in text
    assert check(text, ans.citations, understand(question)).ok, check(text, ans.citations, understand(question))
    # every figure of the answer is inside a span it cites (what eval's grounding metric counts)
    assert not ungrounded_figures(text, [c.quote for c in ans.citations] + [question])
    for c in ans.citations:
        doc = (FIXTURES / c.source).read_text(encoding="utf-8")
        assert doc[c.start : c.end] == c.quote


# -- the right figure among several ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "wanted", "unwanted"),
    [
        # "5 … giỏi, tỷ lệ 9,62%; 40 … khá, tỷ lệ 76,92%; 7 … trung bình, 13,46%": the clause asked for
        ("Tỷ lệ học viên xếp loại khá của lớp trung cấp K20 ở Vĩnh Phúc là bao nhiêu?", "76,92%", "9,62%"),
        ("Lớp trung cấp K20 ở Vĩnh Phúc có bao nhiêu học viên xếp loại trung bình?", "7 học viên", "5 học viên"),
        # the frame ("xếp loại") is said once, in the first item, inside a parenthesis
        ("Tỷ lệ học viên xếp loại khá của lớp K21 hệ không tập trung ở Vĩnh Phúc là bao nhiêu?", "73,44%", "18,75%"),
    ],
)
def test_enumeration_gives_the_clause_asked_for(bot: object, question: str, wanted: str, unwanted: str) -> None:
    ans = _ask(bot, question)
    assert not ans.refused, ans.answer
    assert wanted in ans.answer and unwanted not in ans.answer, ans.answer
    assert ans.citations[0].source == VP


def test_headline_figure_beats_the_neighbouring_sub_figure(bot: object) -> None:
    ans = _ask(bot, "Năm 2023 Vĩnh Phúc có bao nhiêu đồng chí được đào tạo cao cấp lý luận chính trị?")
    assert "148 đồng chí" in ans.answer and "11 cán bộ" not in ans.answer, ans.answer


def test_day_month_date_without_year_is_a_date(bot: object) -> None:
    ans = _ask(bot, "Lớp bồi dưỡng kiến thức quốc phòng và an ninh ở Vĩnh Phúc khai giảng ngày nào?")
    assert not ans.refused and "4-9" in ans.answer, ans.answer


def test_date_in_words_answers_when(bot: object) -> None:
    ans = _ask(bot, "Hướng dẫn cử viên chức đi đào tạo sau đại học có hiệu lực khi nào?")
    assert not ans.refused and "từ ngày ký" in ans.answer, ans.answer
    assert ans.citations[0].source == BNV


# -- period ----------------------------------------------------------------------------------------


def test_period_outside_the_document_is_refused_naming_its_period(bot: object) -> None:
    ans = _ask(bot, "Năm 2030 Vĩnh Phúc có bao nhiêu đồng chí được đào tạo cao cấp lý luận chính trị?")
    assert ans.refused and "148" not in ans.answer, ans.answer
    assert "2030" in ans.answer and "giai đoạn khác" in ans.answer  # says why
    assert any("2023" in n for n in ans.notes)  # and, under "Chi tiết", which period the document covers


def test_answer_in_period_carries_its_subject_and_period(bot: object) -> None:
    ans = _ask(bot, "Vĩnh Phúc có bao nhiêu đồng chí được đào tạo cao cấp lý luận chính trị?")
    assert ans.answer.startswith("Vĩnh Phúc: Năm 2023, ") and "148 đồng chí" in ans.answer, ans.answer
    assert "Nguyên văn" not in ans.answer  # the sentence is the document's own words: no second quote


def test_period_that_opens_the_sentence_is_stated_and_cited(bot: object) -> None:
    """ "Trong năm 2023, …, cụ thể: … cho 210 công chức; …": the period is said once, before the list."""
    ans = _ask(bot, "Vĩnh Phúc bồi dưỡng kiến thức quản lý nhà nước cho bao nhiêu công chức?")
    assert ans.answer.startswith("Vĩnh Phúc, năm 2023: ") and "210 công chức" in ans.answer, ans.answer
    assert "95" not in ans.answer  # the next item of the list is not this answer
    quote = ans.citations[0].quote
    assert "năm 2023" in quote and "210 công chức" in quote  # the citation covers the period it states


# -- provinces: the 2025 merger, national documents, no province ------------------------------------


def test_current_province_reaches_its_former_parts_and_names_them(bot: object) -> None:
    ans = _ask(bot, "Phú Thọ mở bao nhiêu lớp trung cấp lý luận chính trị?")
    assert not ans.refused, ans.answer
    assert "tỉnh Hòa Bình (cũ), nay thuộc tỉnh Phú Thọ" in ans.answer, ans.answer
    assert "tỉnh Vĩnh Phúc (cũ), nay thuộc tỉnh Phú Thọ" in ans.answer, ans.answer
    assert {c.province for c in ans.citations} <= {"Hòa Bình", "Vĩnh Phúc", "Phú Thọ"}


@pytest.mark.parametrize(
    ("question", "own", "other"),
    [
        ("Yên Bái đào tạo bao nhiêu cán bộ cấp xã về trình độ trung cấp chuyên môn?", "175", "230"),
        ("Năm 2012 Lào Cai đào tạo bao nhiêu cán bộ cấp xã về trình độ trung cấp chuyên môn?", "230", "175"),
    ],
)
def test_former_province_is_answered_only_from_its_own_documents(
    bot: object, question: str, own: str, other: str
) -> None:
    ans = _ask(bot, question)
    assert own in ans.answer and other not in ans.answer, ans.answer


def test_naming_a_province_does_not_hide_national_documents(bot: object) -> None:
    ans = _ask(bot, "Viên chức công tác ở Hòa Bình có được cử đi đào tạo sau đại học không?")
    assert not ans.refused, ans.answer
    assert ans.citations[0].source == BNV
    assert "văn bản Trung ương" in ans.answer


def test_national_document_never_stands_in_for_a_province_figure(bot: object) -> None:
    ans = _ask(bot, "Quảng Ninh cử bao nhiêu viên chức đi đào tạo sau đại học?")
    assert ans.refused, ans.answer


def test_document_without_province_is_answered_and_says_so(bot: object) -> None:
    ans = _ask(bot, "Lớp bồi dưỡng nghiệp vụ công tác văn phòng cấp ủy có bao nhiêu học viên?")
    assert not ans.refused and "38 học viên" in ans.answer, ans.answer
    assert ans.citations[0].source == NO_PROVINCE
    assert "tài liệu không nêu tỉnh" in ans.answer


def test_how_long_is_answered_with_a_duration(bot: object) -> None:
    ans = _ask(bot, "Lớp bồi dưỡng nghiệp vụ công tác văn phòng cấp ủy kéo dài bao lâu?")
    assert not ans.refused and "7 ngày" in ans.answer, ans.answer


# -- two documents that disagree -------------------------------------------------------------------


def test_documents_that_disagree_are_both_shown_and_flagged(bot: object) -> None:
    ans = _ask(bot, "Năm 2022 Hòa Bình mở lớp trung cấp lý luận chính trị với bao nhiêu học viên?")
    assert not ans.refused, ans.answer
    assert "410" in ans.answer and "395" in ans.answer, ans.answer
    assert "khác nhau" in ans.answer
    assert {c.source for c in ans.citations} == {HB_NEWS, HB_REPORT}
    assert any("khác nhau" in n for n in ans.notes)


def test_fixture_folder_is_ours() -> None:
    """The fixtures are written for these tests (invented figures), never copied from ../shared."""
    assert all(p.suffix in (".txt", ".yaml") for p in Path(FIXTURES).iterdir())
