"""Provinces as place names, issuing bodies' level, and the 2025 merger (data file, legal source)."""

from __future__ import annotations

import pytest
import yaml

from ingest.provinces import (
    MERGER_FILE,
    NATIONAL,
    PROVINCES,
    current_of,
    dominant_province,
    find_provinces,
    former_label,
    level_of_body,
    merger,
    parts_of,
    province_of_body,
    scope_of,
)


@pytest.mark.parametrize(
    "text",
    [
        "Cần nắm chắc diễn biến tư tưởng của cán bộ sau khi học.",  # not Điện Biên
        "Kết quả được báo cáo bằng văn bản trước ngày 15.",  # not Cao Bằng
        "Chính sách với người Việt Nam định cư ở nước ngoài.",  # not Nam Định
        "Giữ gìn hòa bình, ổn định để phát triển.",  # peace, not Hòa Bình
        "Đoàn TNCS Hồ Chí Minh giới thiệu đoàn viên ưu tú.",  # not the city
        "Học tập và làm theo tư tưởng Hồ Chí Minh.",
        "Học viện Chính trị quốc gia Hồ Chí Minh mở lớp.",
        "Thiết bị đo phóng xạ được kiểm định.",  # not Hải Phòng
        "Ông Nguyễn Thái Bình phát biểu.",  # a person
        "Các nước ven Thái Bình Dương.",  # an ocean
    ],
)
def test_common_phrases_are_not_provinces(text: str) -> None:
    assert find_provinces(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Viên chức công tác ở Hòa Bình có được đào tạo không?", ["Hòa Bình"]),
        ("Hoà Bình đào tạo bao nhiêu cán bộ?", ["Hòa Bình"]),  # old tone placement
        ("ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG", ["Lâm Đồng"]),
        ("Trường Chính trị Thành phố Hồ Chí Minh", ["Hồ Chí Minh"]),
        ("Sở Nội vụ TP.HCM", ["Hồ Chí Minh"]),
        ("Tỉnh ủy Nghệ An và UBND tỉnh Bình Định", ["Nghệ An", "Bình Định"]),
        ("nghe an dao tao bao nhieu thac sy", ["Nghệ An"]),  # accent-free question
        ("so lieu cua tinh yen bai", ["Yên Bái"]),
        ("Hoa Binh có bao nhiêu học viên?", ["Hòa Bình"]),  # capitalised, typed without accents
        ("Quyết định của tỉnh Bà Rịa-Vũng Tàu", ["Bà Rịa - Vũng Tàu"]),
    ],
)
def test_place_names_are_found(text: str, expected: list[str]) -> None:
    assert find_provinces(text) == expected


def test_lowercase_accent_free_phrase_in_accented_text_is_not_a_place() -> None:
    assert find_provinces("Báo cáo tình hình hoa binh tại cơ sở") == []


def test_dominant_province_ignores_phrases() -> None:
    text = "Tỉnh ủy Quảng Trị chỉ đạo. Theo dõi diễn biến, giữ vững hòa bình. Quảng Trị mở 3 lớp."
    assert dominant_province(text) == "Quảng Trị"


@pytest.mark.parametrize(
    ("body", "province", "level"),
    [
        ("UBND tỉnh Bình Định", "Bình Định", "tỉnh"),
        ("Tỉnh ủy Nghệ An", "Nghệ An", "tỉnh"),
        ("Sở Nội vụ tỉnh Hà Tĩnh", "Hà Tĩnh", "tỉnh"),
        ("Trường Chính trị tỉnh Kiên Giang", "Kiên Giang", "tỉnh"),
        ("BỘ NỘI VỤ", NATIONAL, "trung ương"),
        ("Chính phủ", NATIONAL, "trung ương"),
        ("Thủ tướng Chính phủ", NATIONAL, "trung ương"),
        ("Ban Tổ chức Trung ương", NATIONAL, "trung ương"),
        ("Học viện Chính trị quốc gia Hồ Chí Minh", NATIONAL, "trung ương"),
        ("BỘ CHÍNH TRỊ", NATIONAL, "trung ương"),
        ("Huyện ủy Thạch Hà", "", "huyện"),
    ],
)
def test_issuing_body_gives_province_and_level(body: str, province: str, level: str) -> None:
    assert province_of_body(body) == province
    assert level_of_body(body) == level


def test_merger_data_file_has_its_legal_source_and_covers_all_63() -> None:
    data = yaml.safe_load(MERGER_FILE.read_text(encoding="utf-8"))
    assert "202/2025/QH15" in data["source"]
    m = merger()
    assert len(m.parts) == 34
    assert sorted(m.current) == sorted(PROVINCES)  # every former province maps to exactly one current
    assert m.effective == "2025-07-01"


def test_merger_lookups() -> None:
    assert current_of("Hải Dương") == "Hải Phòng"
    assert current_of("Hòa Bình") == current_of("Vĩnh Phúc") == "Phú Thọ"
    assert current_of("Yên Bái") == "Lào Cai"
    assert current_of("Bắc Kạn") == "Thái Nguyên"
    assert current_of("Hà Giang") == "Tuyên Quang"
    assert current_of("Nghệ An") == "Nghệ An"  # unchanged
    assert set(parts_of("Phú Thọ")) == {"Phú Thọ", "Hòa Bình", "Vĩnh Phúc"}
    assert parts_of("Yên Bái") == ("Yên Bái",)  # only a former province


def test_question_scope_follows_the_period() -> None:
    # a current province reaches its former parts …
    assert set(scope_of("Phú Thọ")) == {"Phú Thọ", "Hòa Bình", "Vĩnh Phúc"}
    assert set(scope_of("Lào Cai", [(2025, 2030)])) == {"Lào Cai", "Yên Bái"}
    # … but not for a period that ended before the merger, and a former province is only itself
    assert scope_of("Lào Cai", [(2010, 2015)]) == ["Lào Cai"]
    assert scope_of("Yên Bái") == ["Yên Bái"]
    assert scope_of("Nghệ An") == ["Nghệ An"]


def test_former_province_label() -> None:
    assert former_label("Hòa Bình") == "tỉnh Hòa Bình (cũ), nay thuộc tỉnh Phú Thọ"
    assert former_label("Hải Dương") == "tỉnh Hải Dương (cũ), nay thuộc thành phố Hải Phòng"
    assert former_label("Nghệ An") == "tỉnh Nghệ An"
