from ingest.normalize import (
    canonical_number,
    canonical_tones,
    fold,
    has_diacritics,
    lexical_tokens,
    normalize_text,
    strip_accents,
)


def test_nfc_and_decomposed_input_meet() -> None:
    decomposed = "Nghe\u0323\u0302 An"  # NFD-ish input, as some legacy files carry
    assert normalize_text(decomposed) == "Nghệ An"


def test_tone_mark_placement_is_unified() -> None:
    # the seeds mix "uỷ"/"ủy" and "hoà"/"hòa" inside one document
    assert canonical_tones("Tỉnh uỷ") == canonical_tones("Tỉnh ủy") == "Tỉnh ủy"
    assert canonical_tones("hoà") == canonical_tones("hòa") == "hòa"
    assert canonical_tones("khoá học") == "khóa học"
    assert canonical_tones("thuỷ") == "thủy"
    # closed syllables and "qu" clusters are not touched
    assert canonical_tones("hoàn thành") == "hoàn thành"
    assert canonical_tones("quý") == "quý"
    assert canonical_tones("thuế") == "thuế"


def test_i_y_variants_fold_together() -> None:
    assert fold("thạc sỹ") == fold("thạc sĩ")
    assert fold("tiến sỹ") == fold("tiến sĩ")
    assert fold("Uỷ ban") == fold("ủy ban")


def test_accent_free_form() -> None:
    assert strip_accents("Nghệ An đào tạo bao nhiêu thạc sỹ") == "nghe an dao tao bao nhieu thac si"
    assert strip_accents("nghe an dao tao bao nhieu thac sy") == "nghe an dao tao bao nhieu thac si"
    assert has_diacritics("Lào Cai") and not has_diacritics("lao cai")


def test_whitespace_and_nbsp_cleanup() -> None:
    assert normalize_text("Đến nay,\u00a0 Lào Cai   có\u00a0hơn") == "Đến nay, Lào Cai có hơn"
    assert normalize_text("a\r\n\r\n\r\n\r\nb") == "a\n\nb"


def test_numbers_are_canonical_tokens() -> None:
    assert canonical_number("72.810") == "72810"
    assert canonical_number("50,4%") == "50.4%"
    assert canonical_number("1.093") == "1093"


def test_lexical_tokens_let_accent_free_queries_meet_accented_text() -> None:
    doc = set(lexical_tokens("cử 935 cán bộ học thạc sỹ"))
    query = set(lexical_tokens("bao nhieu thac sy"))
    assert {"thac", "si", "thac_si"} <= doc
    assert {"thac", "si", "thac_si"} <= query
    assert "935" in doc
