"""Which names answer a who/where question (``assistant.extractive.answer_names``): the names
beside what the question asks, not every name in the quoted sentence."""

from __future__ import annotations

import pytest

from assistant.extractive import answer_names, best_extract, eligible, idf_table, name_runs, states_name
from assistant.types import Passage
from assistant.understanding import understand

# Written for these tests: two bodies, each advising a different body, in one sentence.
TWO_ADVISERS = (
    "Theo đồng chí Lê Văn Hòa, Phó Trưởng Ban Tổ chức Tỉnh ủy, từ trước đến nay Ban Tổ chức Tỉnh ủy "
    "tham mưu Ban Thường vụ Tỉnh ủy xây dựng kế hoạch bồi dưỡng, còn Sở Nội vụ tham mưu Ban Cán sự "
    "đảng UBND tỉnh về công tác này."
)
OTHER = [
    "Năm 2023 tỉnh mở 12 lớp bồi dưỡng kiến thức quản lý nhà nước cho 640 học viên.",
    "Trường Chính trị tỉnh phối hợp với Học viện Hành chính quốc gia mở 2 lớp cao cấp lý luận chính trị.",
]


def _passage(text: str, n: int = 0) -> Passage:
    return Passage(
        chunk_id=f"c{n}", doc_id=f"d{n}", source=f"bai-{n}.txt", title="Bài viết", province="Bắc Ninh",
        period="", doc_type="", section="", start=0, end=len(text), text=text, index_text=text,
    )


def _names(question: str, text: str) -> tuple[str, ...]:
    passages = [_passage(t, i) for i, t in enumerate([text, *OTHER])]
    idf = idf_table(p.text for p in passages)
    q = understand(question, [])
    ex = best_extract(q, passages, idf, min_coverage=0.3)
    assert ex is not None
    return answer_names(q, ex, idf)


def test_name_runs_follow_vietnamese_capitalisation() -> None:
    text = "Từ trước đến nay, Sở Nội vụ tham mưu Ban Cán sự đảng UBND tỉnh; đồng chí Lê Văn Hòa cho biết."
    words = text.replace(",", " ").replace(";", " ").replace(".", " ").split()
    runs = [" ".join(words[a:b]) for a, b in name_runs(text)]
    # a sentence's first word is no name; a lower-case second syllable stays in its name
    assert runs == ["Sở Nội vụ", "Ban Cán sự", "UBND tỉnh", "Lê Văn Hòa cho"]


@pytest.mark.parametrize(
    ("question", "answer", "not_answer"),
    [
        ("Cơ quan nào tham mưu Ban Cán sự đảng UBND tỉnh về bồi dưỡng?", "Sở Nội vụ", "Ban Tổ chức Tỉnh ủy"),
        ("Cơ quan nào tham mưu Ban Thường vụ Tỉnh ủy xây dựng kế hoạch bồi dưỡng?", "Ban Tổ chức Tỉnh ủy", "Sở Nội vụ"),
    ],
)
def test_the_clause_that_answers_names_the_answer(question: str, answer: str, not_answer: str) -> None:
    names = _names(question, TWO_ADVISERS)
    assert any(states_name(answer, n) for n in names), names
    assert not any(states_name(not_answer, n) for n in names), names


def test_a_person_behind_an_appositive_title_is_the_answer() -> None:
    names = _names("Ai là Phó Trưởng Ban Tổ chức Tỉnh ủy?", TWO_ADVISERS)
    assert any("Lê Văn Hòa" in n for n in names), names


def test_where_question_names_the_partner_school() -> None:
    names = _names("Trường Chính trị tỉnh phối hợp với cơ sở nào mở lớp cao cấp lý luận chính trị?", OTHER[1])
    assert names and all("Học viện Hành chính" in n for n in names), names


def test_figure_questions_require_no_name() -> None:
    q = understand("Năm 2023 tỉnh mở bao nhiêu lớp bồi dưỡng kiến thức quản lý nhà nước?", [])
    passages = [_passage(t, i) for i, t in enumerate(OTHER)]
    idf = idf_table(p.text for p in passages)
    ex = best_extract(q, passages, idf)
    assert ex is not None and ex.figure is not None and answer_names(q, ex, idf) == ()


def test_states_name_needs_every_capitalised_word() -> None:
    assert states_name("Cơ quan đó là sở nội vụ [1].", "Sở Nội vụ")
    assert not states_name("Cơ quan đó là Ban Tổ chức Tỉnh ủy [1].", "Sở Nội vụ")


def test_sentence_opening_capital_and_honorific_are_not_part_of_the_name() -> None:
    duty = "Giao Ban Tổ chức Tỉnh ủy là cơ quan thường trực, theo dõi, đôn đốc việc thực hiện kế hoạch."
    assert _names("Cơ quan nào là cơ quan thường trực theo dõi, đôn đốc việc thực hiện?", duty) == (
        "Ban Tổ chức Tỉnh ủy",
    )
    director = "Đồng chí Trần Văn Nam, Giám đốc Sở Nội vụ, cho biết tỉnh đã mở 12 lớp bồi dưỡng."
    assert _names("Giám đốc Sở Nội vụ là ai?", director) == ("Trần Văn Nam",)


# Written for these tests: a class-closing news item, in the shape such pages take.
CLOSING = [
    "Trung tâm Chính trị huyện Cẩm Xuyên bế giảng lớp bồi dưỡng lý luận chính trị cho đảng viên mới khóa 3.",
    "Sau 4 ngày học tập, 45 học viên đã nắm vững các nội dung của 10 chuyên đề.",
    "Kết quả có 20 học viên đạt loại giỏi, chiếm 44,4%, 25 học viên đạt loại khá, chiếm 55,6%.",
]
OPENING = [
    "Sáng 10/3, Trường Chính trị tỉnh khai giảng lớp cao cấp lý luận chính trị K20; dự lễ có lãnh đạo Ban "
    "Tổ chức Tỉnh ủy, lãnh đạo Trường Chính trị tỉnh, giảng viên và 58 học viên.",
    "Đây là lớp thứ hai của tỉnh trong tổng số 9 lớp học cao cấp lý luận chính trị K20 do Học viện tổ chức.",
    "Trong 4 tháng, học viên lớp cao cấp lý luận chính trị K20 sẽ học các môn về chủ nghĩa Mác-Lênin.",
]


def _figure(question: str, sentences: list[str]) -> str | None:
    """The figure answering the question from one passage of these sentences (and an unrelated one)."""
    passages = [_passage(" ".join(sentences)), _passage(OTHER[0], 1)]
    idf = idf_table(p.text for p in passages)
    leads = {"d0": sentences[0], "d1": OTHER[0]}  # each document's opening, as the qa mode passes them
    found = eligible(understand(question, []), passages, idf, min_coverage=0.3, leads=leads)
    return found[0].figure.raw if found and found[0].figure is not None else None


def test_a_share_of_the_class_is_not_the_class() -> None:
    q = "Lớp bồi dưỡng đảng viên mới khóa 3 ở Cẩm Xuyên có bao nhiêu học viên?"
    assert _figure(q, CLOSING) == "45"
    # the part asked by name is the answer
    assert _figure("Lớp bồi dưỡng đảng viên mới khóa 3 có bao nhiêu học viên đạt loại giỏi?", CLOSING) == "20"


def test_learners_are_counted_by_learners_not_by_classes_or_months() -> None:
    # "lớp học" holds the syllable "học" but counts classes; "3 tháng" counts months
    assert _figure("Lớp cao cấp lý luận chính trị K20 có bao nhiêu học viên?", OPENING) == "58"
    assert _figure("Học viện đã tổ chức bao nhiêu lớp cao cấp lý luận chính trị?", OPENING) == "9"


def test_a_question_counting_days_is_answered_by_days() -> None:
    days = ["Năm 2023, huyện tổ chức bồi dưỡng cho cán bộ cấp xã với tổng cộng 1.200 ngày công học tập."]
    assert _figure("Năm 2023 huyện tổ chức bao nhiêu ngày công bồi dưỡng cho cán bộ cấp xã?", days) == "1.200"
