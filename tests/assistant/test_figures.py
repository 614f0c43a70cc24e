"""Tests for assistant.figures on real corpus sentences (the grounding check and the eval share it)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from assistant.figures import (
    KINDS,
    Figure,
    extract_figures,
    figure_values,
    format_vn_number,
    normalize_number,
    ungrounded_figures,
)

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def triples(text: str) -> list[tuple[str, str, str]]:
    return [(f.raw, f.value, f.kind) for f in extract_figures(text)]


def values(text: str) -> list[str]:
    return [f.value for f in extract_figures(text)]


# ---------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("token", "canonical"),
    [
        ("72.810", "72810"),
        ("72810", "72810"),
        ("1.093", "1093"),
        ("23.703", "23703"),
        ("1.234.567", "1234567"),
        ("50,4", "50.4"),
        ("50.4", "50.4"),
        ("126,2", "126.2"),
        ("50,40", "50.4"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("1,234,567", "1234567"),
        ("06", "6"),
        ("01", "1"),
        ("0", "0"),
        ("0,5", "0.5"),
        ("1,093", "1.093"),  # a single comma is always the Vietnamese decimal comma
    ],
)
def test_normalize_number(token: str, canonical: str) -> None:
    assert normalize_number(token) == canonical


def test_thousands_separator_real_sentence() -> None:
    text = "Tổ chức đào tạo, bồi dưỡng cho 72.810 lượt cán bộ lãnh đạo, quản lý các cấp"
    assert triples(text) == [("72.810", "72810", "number")]
    assert figure_values("72810 lượt") == figure_values(text)


def test_nghe_an_breakdown() -> None:
    text = (
        "(trong đó, cử 935 cán bộ học thạc sỹ, 160 cán bộ học tiến sỹ; cử 2.161 cán bộ học cao cấp "
        "lý luận chính trị và 14.772 cán bộ học trung cấp lý luận chính trị)"
    )
    assert values(text) == ["935", "160", "2161", "14772"]
    assert all(f.kind == "number" for f in extract_figures(text))


def test_slash_separates_two_numbers_and_percent() -> None:
    text = "đào tạo được 1.204/954 học viên, đạt tỷ lệ 126,2% so với kế hoạch"
    assert triples(text) == [
        ("1.204", "1204", "number"),
        ("954", "954", "number"),
        ("126,2%", "126.2%", "percent"),
    ]


def test_bare_number_offsets_point_into_text() -> None:
    text = "Về công tác bồi dưỡng : 23.703 đồng chí."
    (f,) = extract_figures(text)
    assert text[f.start : f.end] == f.raw == "23.703"


def test_dong_chi_is_not_money() -> None:
    text = "122 đồng chí được đào tạo cao cấp lý luận chính trị. Cử đi đào tạo 32 đồng chí"
    assert triples(text) == [("122", "122", "number"), ("32", "32", "number")]


# ---------------------------------------------------------------------------------------- percent


def test_percent_variants_compare_equal() -> None:
    for text in ("50,4%", "50.4 %", "50,4 %", "50,4 phần trăm", "50.4%"):
        assert values(text) == ["50.4%"], text


def test_percent_real_sentence() -> None:
    text = "số CBCC cấp xã đạt chuẩn là 1.830 người, chiếm tỷ lệ 50,4% (tăng 8,5% so với  năm 2014)."
    assert triples(text) == [
        ("1.830", "1830", "number"),
        ("50,4%", "50.4%", "percent"),
        ("8,5%", "8.5%", "percent"),
        ("2014", "2014", "number"),
    ]


def test_percent_values_include_plain_number() -> None:
    assert figure_values("chiếm tỷ lệ 50,4%") == {"50.4%", "50.4"}
    assert figure_values("đạt khoảng 50%") == {"50%", "50"}


def test_ty_le_is_not_money() -> None:
    # "tỷ lệ" after a number must not turn it into "… tỷ" money
    assert triples("khá 60 học viên - 68,2%") == [("60", "60", "number"), ("68,2%", "68.2%", "percent")]
    assert values("con số 5 tỷ lệ thuận") == ["5"]


# ---------------------------------------------------------------------------------------- money


def test_money_real_sentence() -> None:
    text = (
        "với tổng kinh phí thực hiện trên 31 tỷ đồng (trong đó, kinh phí địa phương hơn 26,8 tỷ đồng, "
        "còn lại là nguồn kinh phí Trung ương)."
    )
    assert triples(text) == [
        ("31 tỷ đồng", "31 tỷ", "money"),
        ("26,8 tỷ đồng", "26.8 tỷ", "money"),
    ]


@pytest.mark.parametrize(
    "text", ["26,8 tỷ đồng", "26,8 tỷ", "26,8 tỉ", "26.8 tỷ đồng", "26,8 ty dong", "26,8tỷ"]
)
def test_money_variants(text: str) -> None:
    assert values(text) == ["26.8 tỷ"]
    assert extract_figures(text)[0].kind == "money"


def test_money_other_units() -> None:
    assert values("hỗ trợ 5 triệu đồng mỗi người") == ["5 triệu"]
    assert values("500.000 đồng/người") == ["500000 đồng"]
    assert values("2.000 nghìn đồng") == ["2000 nghìn"]
    assert values("100 USD") == ["100 USD"]


def test_scale_word_without_currency_is_a_number() -> None:
    (f,) = extract_figures("xây dựng ít nhất 01 triệu căn hộ")
    assert (f.value, f.kind) == ("1 triệu", "number")
    assert f.forms == {"1 triệu", "1"}


def test_money_values_include_plain_number() -> None:
    assert figure_values("trên 31 tỷ đồng") == {"31 tỷ", "31"}


# ---------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "text",
    ["10-2-2017", "10/02/2017", "ngày 10 tháng 2 năm 2017", "10.2.2017", "Ngày 10 tháng 02 năm 2017"],
)
def test_date_variants(text: str) -> None:
    assert values(text) == ["2017-02-10"]
    assert extract_figures(text)[0].kind == "date"


def test_word_date_from_conclusion() -> None:
    text = "Tại phiên họp ngày 06 tháng 8 năm 2021, sau khi nghe Ban Chỉ đạo tỉnh báo cáo"
    (f,) = extract_figures(text)
    assert (f.value, f.kind) == ("2021-08-06", "date")
    assert values("06 tháng 8 năm 2021") == values("06/8/2021") == ["2021-08-06"]


def test_plan_and_date() -> None:
    text = "Thực hiện theo Kế hoạch số 52-KH/BTCTW ngày 10-2-2017 của Ban Tổ chức Trung ương"
    assert triples(text) == [
        ("52-KH/BTCTW", "52-KH/BTCTW", "docnum"),
        ("10-2-2017", "2017-02-10", "date"),
    ]


def test_month_year() -> None:
    assert triples("tháng 4-2017 UBND tỉnh mới bổ sung") == [("tháng 4-2017", "2017-04", "date")]
    assert values("tháng 4/2017") == values("tháng 4 năm 2017") == ["2017-04"]


def test_invalid_date_falls_back_to_numbers() -> None:
    assert values("32/13/2017") == ["32", "13", "2017"]


def test_date_values_include_parts() -> None:
    assert figure_values("ngày 4-4-2017") == {"2017-04-04", "4", "2017"}


def test_clock_time_is_not_a_figure() -> None:
    assert triples("14/10/2021 06:00") == [("14/10/2021", "2021-10-14", "date")]


# ---------------------------------------------------------------------------------------- year ranges


@pytest.mark.parametrize("text", ["2012 - 2020", "2012-2020", "2012 – 2020", "2012 -2020"])
def test_year_range_variants(text: str) -> None:
    assert values(text) == ["2012-2020"]
    assert extract_figures(text)[0].kind == "year_range"


def test_year_range_real_sentences() -> None:
    assert values("khóa học 2017-2019") == ["2017-2019"]
    assert values("giai đoạn 2010 -2015, đã có trên 9.700 lượt") == ["2010-2015", "9700"]


def test_small_range_is_two_numbers() -> None:
    assert values("Phấn đấu mỗi năm tổ chức từ 1-2 lớp cán bộ nguồn") == ["1", "2"]


def test_year_range_grounded_by_endpoints() -> None:
    passage = "từ năm 2012 đến năm 2020, Tỉnh ủy, HĐND, UBND tỉnh đã ban hành nhiều văn bản"
    assert ungrounded_figures("Giai đoạn 2012-2020 đạt nhiều kết quả.", [passage]) == []


# ---------------------------------------------------------------------------------------- document numbers


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("52-KH/BTCTW", "52-KH/BTCTW"),
        ("592/QĐ-UBND", "592/QĐ-UBND"),
        ("164-QĐ/TW", "164-QĐ/TW"),
        ("34-QĐi/TU", "34-QĐI/TU"),
        ("1659/QĐ-TTg", "1659/QĐ-TTG"),
        ("26-NQ/TW", "26-NQ/TW"),
        ("225-KH/TU", "225-KH/TU"),
        ("37-KL/TW", "37-KL/TW"),
        ("52 - KH/BTCTW", "52-KH/BTCTW"),
        ("592/qđ-UBND", "592/QĐ-UBND"),
        ("101/2017/NĐ-CP", "101/2017/NĐ-CP"),
    ],
)
def test_docnum(text: str, canonical: str) -> None:
    (f,) = extract_figures(f"theo văn bản số {text} của cơ quan")
    assert (f.value, f.kind) == (canonical, "docnum")


def test_docnum_keeps_d_with_stroke() -> None:
    assert values("592/QĐ-UBND") != values("592/QD-UBND")


def test_docnum_nfd_input_is_canonicalized() -> None:
    nfd = unicodedata.normalize("NFD", "Quyết định số 592/QĐ-UBND ngày 4-4-2017")
    figs = extract_figures(nfd)
    assert [f.value for f in figs] == ["592/QĐ-UBND", "2017-04-04"]
    # offsets index the caller's (NFD) string
    assert all(nfd[f.start : f.end] == f.raw for f in figs)


def test_docnum_with_dates_real_sentence() -> None:
    text = (
        "Quyết định số 1659/QĐ-TTg, ngày 19/11/2019 của Thủ tướng Chính phủ phê duyệt Đề án chương "
        "trình mục tiêu quốc gia về học tập ngoại ngữ cho cán bộ công chức, viên chức, giai đoạn 2019 - 2030"
    )
    assert triples(text) == [
        ("1659/QĐ-TTg", "1659/QĐ-TTG", "docnum"),
        ("19/11/2019", "2019-11-19", "date"),
        ("2019 - 2030", "2019-2030", "year_range"),
    ]


def test_capitalized_word_after_dash_is_not_a_docnum() -> None:
    assert triples("năm 2017 - Lạng Sơn đào tạo") == [("2017", "2017", "number")]


def test_docnum_stops_at_ordinary_word() -> None:
    assert values("Kế hoạch số 225-KH/TU - Ban Tuyên giáo") == ["225-KH/TU"]


def test_docnum_values_include_leading_number() -> None:
    assert figure_values("Quyết định số 557-QĐ/TU") == {"557-QĐ/TU", "557"}


# ---------------------------------------------------------------------------------------- not figures


def test_list_after_doi_tuong_is_not_a_decimal() -> None:
    text = "bồi dưỡng kiến thức quốc phòng - an ninh cho đối tượng 1,2 (6 đồng chí đối tượng 1; 34 đồng chí đối tượng 2)"
    assert values(text) == ["1", "2", "6", "1", "34", "2"]
    assert "1.2" not in figure_values(text)


def test_spaced_list() -> None:
    assert values("các đối tượng 3, 4, 5 thực hiện theo kế hoạch") == ["3", "4", "5"]


def test_decimal_comma_elsewhere_stays_decimal() -> None:
    assert values("xếp loại giỏi 28 học viên - 31,8%") == ["28", "31.8%"]
    assert values("điểm trung bình 8,5") == ["8.5"]


def test_roman_numerals_and_headings_are_not_figures() -> None:
    text = "I- Đánh giá chung\nII- Một số nhiệm vụ, giải pháp trọng tâm\nIII- Tổ chức thực hiện"
    assert extract_figures(text) == []
    text = "Nghị quyết Trung ương 3 (khoá VIII)"
    i = text.index("3")
    assert extract_figures(text) == [Figure(raw="3", value="3", kind="number", start=i, end=i + 1)]
    assert values("dự kiến bế giảng trong Quý IV-2017") == ["2017"]


def test_line_enumerators_are_not_figures() -> None:
    text = (
        "2. Quán triệt đầy đủ, sâu sắc quan điểm\n"
        "3. Trên cơ sở quy hoạch cán bộ\n"
        "  4) Từng bước bảo đảm cơ sở vật chất\n"
        "- 5. Tăng cường công tác phối hợp với 935 cán bộ"
    )
    assert values(text) == ["935"]
    assert values("**1.** Nghệ An: 935 thạc sỹ\n## 2. Lào Cai") == ["935"]
    assert values("30 - 40 học viên mỗi lớp") == ["30", "40"]
    # a verbatim quotation that starts at an enumerator keeps it out too, as in the passage itself
    assert values("Nguyên văn: «3. Ban Tuyên giáo Tỉnh ủy tiếp tục chỉ đạo»") == []


def test_numbers_in_words_are_not_figures() -> None:
    assert (
        extract_figures("Một là, Căn cứ tình hình thực tế. Hai là, cần có quy định. Ba là, đa dạng hóa") == []
    )


@pytest.mark.parametrize("marker", ["[1]", "[2]", "[1, 2]", "[1][3]", "[ 12 ]", "[1-3]"])
def test_citation_markers_are_not_figures(marker: str) -> None:
    assert values(f"Nghệ An cử 935 cán bộ học thạc sỹ {marker}.") == ["935"]


def test_identifiers_glued_to_letters_are_not_figures() -> None:
    assert extract_figures("nguồn 000_4a7643c384b8e085.txt") == []
    assert extract_figures("mã 4a7643c384b8e085") == []


def test_empty_text() -> None:
    assert extract_figures("") == []
    assert figure_values("") == set()


# ---------------------------------------------------------------------------------------- whole corpus


def test_every_figure_kind_is_known_and_offsets_match_on_corpus() -> None:
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        figs = extract_figures(text)
        assert figs, path.name
        for f in figs:
            assert f.kind in KINDS
            assert text[f.start : f.end] == f.raw
        starts = [f.start for f in figs]
        assert starts == sorted(starts)
        assert all(a.end <= b.start for a, b in zip(figs, figs[1:], strict=False))


def test_corpus_key_figures_present() -> None:
    def vals(name: str) -> set[str]:
        return figure_values((CORPUS / name).read_text(encoding="utf-8"))

    assert {"72810", "935", "160", "2161", "14772", "2021-08-06", "225-KH/TU", "1659/QĐ-TTG"} <= vals(
        "004_a33d8be99f4285d3.txt"
    )
    assert {"31 tỷ", "26.8 tỷ", "50.4%", "8.5%", "9700", "1830", "37-KL/TW"} <= vals(
        "001_4cad61de56c6e0a2.txt"
    )
    assert {"52-KH/BTCTW", "2017-02-10", "592/QĐ-UBND", "2017-04-04", "126.2%", "1204", "954"} <= vals(
        "000_4a7643c384b8e085.txt"
    )
    assert {"16727", "5602", "3037", "189", "2021-2030"} <= vals("002_323c091cb9cf4f22.txt")
    assert {"50%", "240", "2015-2019"} <= vals("003_d86997e5cd88a41d.txt")


# ---------------------------------------------------------------------------------------- grounding


PASSAGE_LC = (
    "giai đoạn 2010 -2015, đã có trên 9.700 lượt cán bộ, công chức xã được đào tạo, bồi dưỡng. ... "
    "với tổng kinh phí thực hiện trên 31 tỷ đồng (trong đó, kinh phí địa phương hơn 26,8 tỷ đồng, "
    "còn lại là nguồn kinh phí Trung ương)."
)
PASSAGE_NA = "Tổ chức đào tạo, bồi dưỡng cho 72.810 lượt cán bộ lãnh đạo, quản lý các cấp (trong đó, cử 935 cán bộ học thạc sỹ"


def test_grounded_answer_has_no_violations() -> None:
    answer = (
        "Giai đoạn 2010-2015, Lào Cai chi trên 31 tỷ đồng [1], trong đó kinh phí địa phương hơn 26,8 tỷ [1]."
    )
    assert ungrounded_figures(answer, [PASSAGE_LC]) == []


def test_plain_number_grounded_by_money() -> None:
    assert ungrounded_figures("Tổng kinh phí khoảng 31 tỷ [1].", [PASSAGE_LC]) == []
    assert ungrounded_figures("Kinh phí là 31 [1].", [PASSAGE_LC]) == []


def test_money_not_grounded_by_plain_number() -> None:
    (f,) = ungrounded_figures("Kinh phí 9.700 tỷ đồng.", [PASSAGE_LC])
    assert (f.value, f.kind) == ("9700 tỷ", "money")


def test_reformatted_number_is_grounded() -> None:
    assert ungrounded_figures("Nghệ An đào tạo 72810 lượt cán bộ [1].", [PASSAGE_NA]) == []


def test_wrong_and_fabricated_figures_are_reported() -> None:
    answer = "Nghệ An cử 953 cán bộ học thạc sỹ [1], chiếm 12,5% tổng số 72.810 lượt [1]."
    bad = ungrounded_figures(answer, [PASSAGE_NA])
    assert [(f.raw, f.value) for f in bad] == [("953", "953"), ("12,5%", "12.5%")]
    assert all(answer[f.start : f.end] == f.raw for f in bad)


def test_figure_from_other_passage_counts_as_grounded() -> None:
    assert ungrounded_figures("935 và 31 tỷ đồng", [PASSAGE_NA, PASSAGE_LC]) == []


def test_repeated_fabricated_figure_is_reported_once() -> None:
    assert [f.value for f in ungrounded_figures("123 rồi lại 123", [PASSAGE_NA])] == ["123"]


def test_no_passages_means_every_figure_is_ungrounded() -> None:
    assert [f.value for f in ungrounded_figures("Có 935 thạc sỹ", [])] == ["935"]


def test_english_grouping_mismatch_is_flagged() -> None:
    # "72,810" is Vietnamese for 72.81: the assistant must write Vietnamese numbers
    assert [f.value for f in ungrounded_figures("72,810 lượt", [PASSAGE_NA])] == ["72.81"]


def test_citation_markers_never_flagged() -> None:
    assert ungrounded_figures("Không có số liệu [1][2][3].", []) == []


# ---------------------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("x", "decimals", "expected"),
    [
        (72810, None, "72.810"),
        (1093, None, "1.093"),
        (935, None, "935"),
        (0, None, "0"),
        (50.4, None, "50,4"),
        (126.2, 1, "126,2"),
        (126.25, 1, "126,3"),
        (1234.5, None, "1.234,5"),
        (72810.0, None, "72.810"),
        (0.1 + 0.2, None, "0,3"),
        (50.4, 2, "50,40"),
        (1234.5, 0, "1.235"),
        (-1234, None, "-1.234"),
        (-0.01, 1, "0,0"),
        (1_000_000, None, "1.000.000"),
    ],
)
def test_format_vn_number(x: float, decimals: int | None, expected: str) -> None:
    assert format_vn_number(x, decimals) == expected


def test_format_round_trips_through_extraction() -> None:
    for x in (72810, 50.4, 126.2, 1234.5, 14772, 8.5):
        assert values(format_vn_number(x)) == [normalize_number(str(x).replace(".", ","))]


def test_format_rejects_bool() -> None:
    with pytest.raises(TypeError):
        format_vn_number(True)


@pytest.mark.parametrize(
    ("text", "raw", "value"),
    [
        ("Ngày 4-5, Trường Chính trị tỉnh khai giảng lớp", "4-5", "--05-04"),
        ("Chiều 13/8, trường tổ chức lễ bế giảng", "13/8", "--08-13"),
        ("Sáng nay 30/7, Trung tâm Chính trị huyện", "30/7", "--07-30"),
    ],
)
def test_dates_without_year_are_dates(text: str, raw: str, value: str) -> None:
    dates = [f for f in extract_figures(text) if f.kind == "date"]
    assert [(f.raw, f.value) for f in dates] == [(raw, value)]


@pytest.mark.parametrize(
    "text",
    ["mỗi năm tổ chức 1-2 lớp", "ngày 32/13 không có", "tỷ lệ 4/5 đạt", "có hiệu lực kể từ ngày ký"],
)
def test_what_is_not_a_year_less_date(text: str) -> None:
    assert not [f for f in extract_figures(text) if f.kind == "date"]


def test_year_less_date_grounds_only_itself() -> None:
    assert not ungrounded_figures("Lễ khai giảng ngày 1-11 [1].", ["Ngày 1/11, trường khai giảng"])
    assert [f.raw for f in ungrounded_figures("Khai giảng ngày 2-11 [1].", ["Ngày 1-11, trường khai giảng"])] == [
        "2-11"
    ]
