"""Question understanding: provinces, periods, abbreviations, answer kind and follow-ups (pure functions)."""

from __future__ import annotations

import pytest

from assistant.understanding import expand_abbreviations, is_followup, understand


@pytest.mark.parametrize(
    ("question", "provinces"),
    [
        ("Nghệ An đào tạo bao nhiêu thạc sỹ?", ["Nghệ An"]),
        ("nghe an dao tao bao nhieu thac sy", ["Nghệ An"]),
        ("Hoà Bình năm 2019 mở mấy lớp?", ["Hòa Bình"]),  # old-style tone mark
        ("tinh uy hai duong", ["Hải Dương"]),
        ("So sánh Nghệ An và Lào Cai", ["Nghệ An", "Lào Cai"]),
        ("Yên Bái đào tạo bao nhiêu thạc sĩ?", ["Yên Bái"]),  # outside the corpus, still detected
        ("Kế hoạch 52-KH/BTCTW là gì?", []),
    ],
)
def test_provinces(question: str, provinces: list[str]) -> None:
    assert understand(question).provinces == provinces


def test_years_and_periods() -> None:
    assert understand("Hoà Bình năm 2019 mở mấy lớp?").years == [(2019, 2019)]
    assert understand("Lào Cai giai đoạn 2010-2015 chi bao nhiêu kinh phí?").years == [(2010, 2015)]
    assert understand("Nghệ An đào tạo bao nhiêu thạc sỹ?").years == []


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Nghệ An đào tạo bao nhiêu thạc sỹ?", "count"),
        ("Tỷ lệ cán bộ nữ ở Lạng Sơn là bao nhiêu?", "percent"),
        ("Lào Cai giai đoạn 2010-2015 chi bao nhiêu kinh phí?", "money"),
        ("Kết luận của Nghệ An được ban hành ngày nào?", "date"),
        ("Ai ký báo cáo của Hải Dương?", "who"),
        ("Tỉnh ủy Hải Dương ban hành văn bản nào?", "docnum"),
    ],
)
def test_kind(question: str, kind: str) -> None:
    assert understand(question).kind == kind


def test_abbreviations_expand_for_matching_and_keep_the_original() -> None:
    text, found = expand_abbreviations("BTV Tỉnh ủy chỉ đạo QLNN")
    assert found == {"QLNN": "quản lý nhà nước", "BTV": "Ban Thường vụ"}
    assert text.startswith("BTV Tỉnh ủy chỉ đạo QLNN") and "quản lý nhà nước" in text
    q = understand("Số CBCC được bồi dưỡng LLCT là bao nhiêu?")
    assert q.abbreviations == {"LLCT": "lý luận chính trị", "CBCC": "cán bộ, công chức"}
    assert q.text == "Số CBCC được bồi dưỡng LLCT là bao nhiêu?"  # shown as asked
    assert "cán bộ, công chức" in q.search_text


def test_si_sy_variants_give_the_same_target() -> None:
    assert understand("Nghệ An đào tạo bao nhiêu thạc sỹ?").targets == ["thạc_sĩ"]
    assert understand("Nghệ An đào tạo bao nhiêu thạc sĩ?").targets == ["thạc_sĩ"]


def test_follow_up_is_resolved_against_the_previous_question() -> None:
    history = ["Nghệ An đào tạo bao nhiêu thạc sỹ?"]
    assert is_followup("còn tiến sĩ?")
    q = understand("còn tiến sĩ?", history)
    assert q.text == "Nghệ An đào tạo bao nhiêu tiến sĩ?"
    assert q.provinces == ["Nghệ An"] and q.targets == ["tiến_sĩ"]
    assert not is_followup("Lào Cai giai đoạn 2010-2015 chi bao nhiêu kinh phí?")


def test_how_long_asks_for_a_duration() -> None:
    for question in (
        "Khóa trung cấp lý luận chính trị K52A học trong thời gian bao lâu?",
        "Lớp bồi dưỡng kéo dài bao lâu?",
        "lop so cap hoc may thang",
    ):
        q = understand(question)
        assert q.kind == "duration", question
        assert not any(t.startswith("lâu") or t.startswith("lau") for t in q.terms), q.terms
    assert understand("Lễ khai giảng diễn ra ngày nào?").kind == "date"


def test_province_figure_kinds_are_statistics() -> None:
    from assistant.understanding import PROVINCE_FIGURE_KINDS

    assert understand("Hòa Bình có bao nhiêu học viên?").kind in PROVINCE_FIGURE_KINDS
    assert understand("Viên chức ở Hòa Bình có được cử đi học không?").kind not in PROVINCE_FIGURE_KINDS


def test_a_drafting_request_s_year_is_the_text_s_not_a_period_asked() -> None:
    """"Soạn kế hoạch … năm 2025": the year belongs to the text to be written, not to its sources."""
    assert understand("Soạn dự thảo kế hoạch đào tạo cán bộ cấp xã năm 2025").years == []
    assert understand("viet bai phat bieu giai doan 2021-2025").years == []
    assert understand("Năm 2030 Nghệ An đào tạo bao nhiêu thạc sỹ?").years == [(2030, 2030)]
    assert understand("Giai đoạn 2012-2020, Nghệ An cử bao nhiêu cán bộ học thạc sỹ?").years == [(2012, 2020)]
