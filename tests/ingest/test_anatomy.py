"""Document anatomy at ingest: header, legal bases, articles, signature, web header table, news parts.

Fixtures in tests/fixtures/genres/ are written for these tests (invented bodies, figures and names).
Every field must point at its own span: ``text[start:end]`` holds what the field says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.anatomy import Anatomy, Span, display_body, parse, type_of_symbol
from ingest.corpus import load_document
from ingest.provinces import NATIONAL

GENRES = Path(__file__).resolve().parents[1] / "fixtures" / "genres"
REAL_DEV = Path(__file__).resolve().parents[3] / "shared" / "real-dev"


def _doc(name: str) -> tuple[str, Anatomy]:
    text = (GENRES / name).read_text(encoding="utf-8")
    return text, parse(text)


def _quote(text: str, span: Span | None) -> str:
    assert span is not None
    return text[span.start : span.end]


def test_state_decision_header_and_final_parts() -> None:
    text, a = _doc("qd-so-noi-vu-quang-binh.txt")
    assert a.genre == "van_ban"
    assert _quote(text, a.motto) == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert _quote(text, a.issuer) == "SỞ NỘI VỤ" and _quote(text, a.parent) == "UBND TỈNH QUẢNG BÌNH"
    assert a.number_value == "412/QĐ-SNV" == _quote(text, a.number)
    # the place is the town it was signed in; the date is the document's own, not a basis's
    assert a.place and a.place.value == "Đồng Hới"
    assert a.date and a.date.value == "2021-04-07" and _quote(text, a.date) == "ngày 07 tháng 04 năm 2021"
    assert a.type_value == "Quyết định"
    assert a.summary and a.summary.value.startswith("Về việc ban hành quy chế")
    assert [b.refs[0].number for b in a.bases if b.refs] == ["101/2017/NĐ-CP", "2260/QĐ-UBND"]
    assert [x.n for x in a.articles] == [1, 2, 3]
    assert "60 công chức" in text[a.articles[1].start : a.articles[1].end]
    assert a.effect and "có hiệu lực kể từ ngày ký" in _quote(text, a.effect)
    assert [_quote(text, r) for r in a.replaces] == ["thay thế Quyết định số 95/QĐ-SNV ngày 20/3/2019"]
    assert a.recipients and _quote(text, a.recipients).startswith("Nơi nhận")
    sig = a.signature
    assert sig and sig.authority and sig.authority.value == "KT. GIÁM ĐỐC"
    assert sig.position and sig.position.value == "PHÓ GIÁM ĐỐC"
    assert a.signer and _quote(text, a.signer) == "Trương Khắc Duy"
    # the province comes from the parent body; the level is the province's
    assert (a.province, a.level) == ("Quảng Bình", "tỉnh")


def test_party_plan_layout() -> None:
    """Hướng dẫn 36: body and parent on the left, "Số 118-KH/TU" under them, T/M in the signature."""
    text, a = _doc("kh-tinh-uy-yen-bai.txt")
    assert _quote(text, a.motto) == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert _quote(text, a.issuer) == "BAN THƯỜNG VỤ TỈNH ỦY"
    assert _quote(text, a.parent) == "ĐẢNG BỘ TỈNH YÊN BÁI"
    assert a.number_value == "118-KH/TU" and a.type_value == "Kế hoạch"
    assert a.date and a.date.value == "2019-03-05"
    assert [p.value.split(".")[0] for p in a.parts] == ["I", "II", "III", "IV"]
    assert a.signature and a.signature.authority and a.signature.authority.value == "T/M BAN THƯỜNG VỤ"
    assert a.signer and a.signer.value == "Hà Quang Tiến"  # "(đã ký)" is skipped, never the signer
    assert a.province == "Yên Bái"


def test_party_conclusion_without_parent_body() -> None:
    text, a = _doc("kl-btv-hoa-binh.txt")
    assert _quote(text, a.issuer) == "TỈNH ỦY HÒA BÌNH" and a.parent is None
    assert a.number_value == "57-KL/TU" and a.type_value == "Kết luận"
    assert a.date and a.date.value == "2018-11-22"  # not the meeting date in the body (20/11/2018)
    assert a.signer and a.signer.value == "Ngô Thanh Bình"
    assert a.signature and a.signature.position and a.signature.position.value == "BÍ THƯ"
    assert a.province == "Hòa Bình"


def test_report_school_under_provincial_party_committee() -> None:
    text, a = _doc("bc-ket-qua-lop-ninh-binh.txt")
    assert _quote(text, a.issuer) == "TRƯỜNG CHÍNH TRỊ" and _quote(text, a.parent) == "TỈNH ỦY NINH BÌNH"
    assert a.number_value == "36-BC/TCT" and a.type_value == "Báo cáo"
    # the trích yếu stops before the first numbered part; codes keep their capitals
    assert a.summary and a.summary.value.endswith("K48 (2019 - 2020)")
    assert a.signer and a.signer.value == "Đinh Thị Loan"
    assert a.province == "Ninh Bình"


def test_legal_web_page_header_table_and_national_level() -> None:
    text, a = _doc("web-qd-bnv-tieu-chuan.txt")
    assert a.table["so_hieu"].value == "1452/QĐ-BNV"
    assert a.table["nguoi_ky"].value == "Vũ Đăng Khoa"
    assert a.table["ngay_ban_hanh"].value == "2021-09-18"
    assert a.table["ngay_hieu_luc"].value == "2021-11-01"
    for span in a.table.values():
        assert span.value in text[span.start : span.end] or span.value[:4] in text[span.start : span.end]
    # signed in Hà Nội, but a Bộ speaks for the country
    assert a.place and a.place.value == "Hà Nội"
    assert (a.province, a.level) == (NATIONAL, "trung ương")
    assert a.effect and _quote(text, a.effect) == "Quyết định này có hiệu lực từ ngày 01 tháng 11 năm 2021"
    # "Căn cứ" lines cite other documents, never this one
    assert all(r.number != "1452/QĐ-BNV" for b in a.bases for r in b.refs)
    assert a.articles[1].n == 2


def test_news_page_parts() -> None:
    text, a = _doc("tin-quang-tri-khai-giang.txt")
    assert a.genre == "tin_bai"
    assert a.headline and a.headline.value.startswith("Trường Chính trị tỉnh khai giảng")
    assert a.published and a.published.value == "2023-06-14"
    assert a.agency and a.agency.value == "QT"
    assert a.dateline and _quote(text, a.dateline) == "Ngày 12-6" and a.dateline.value == "2023-06-12"
    assert a.byline and a.byline.value == "Minh Châu"
    captions = [c.value for c in a.captions]
    assert "Quang cảnh lễ khai giảng. Ảnh: T.H" in captions
    assert any(c.startswith("Đại diện lãnh đạo Học viện") for c in captions)
    assert not any("104 học viên" in c for c in captions)  # the lead paragraph is no caption


def test_roundtrip_json_keeps_every_field() -> None:
    for path in sorted(GENRES.glob("*.txt")):
        a = parse(path.read_text(encoding="utf-8"))
        raw = a.to_json()
        assert Anatomy.from_json(raw).to_json() == raw
    assert Anatomy.from_json("").genre == ""


def test_symbols_and_display_names() -> None:
    assert type_of_symbol("875/QĐ-BNV") == "Quyết định"
    assert type_of_symbol("225-KH/TU") == "Kế hoạch"
    assert type_of_symbol("5673/BNV-CCVC") == "Công văn"
    assert display_body("ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG") == "Ủy ban nhân dân tỉnh Lâm Đồng"
    assert display_body("BỘ NỘI VỤ") == "Bộ Nội vụ"
    assert (
        display_body("HỌC VIỆN CHÍNH TRỊ QUỐC GIA HỒ CHÍ MINH") == "Học viện Chính trị quốc gia Hồ Chí Minh"
    )


def test_prose_is_not_a_document_header() -> None:
    text = (
        "Hội nghị tổng kết công tác đào tạo diễn ra sáng nay. Các đại biểu thảo luận kết quả năm qua "
        "và đề ra nhiệm vụ năm tới, trong đó có việc mở thêm các lớp bồi dưỡng cho cán bộ cơ sở.\n"
    )
    a = parse(text)
    assert a.number is None and a.issuer is None and a.signature is None and a.province == ""


def test_metadata_comes_from_the_anatomy(tmp_path: Path) -> None:
    """Without a sidecar: title, type, date, issuing body and province come from the header."""
    d = load_document(GENRES / "web-qd-bnv-tieu-chuan.txt", GENRES, 10**6)
    assert d.meta.province == NATIONAL  # never "Hà Nội", where it was signed
    assert d.meta.doc_type == "quyết định" and d.meta.date == "2021-09-18"
    assert d.meta.issuing_body == "Bộ Nội vụ"
    assert d.meta.title.startswith("Quyết định 1452/QĐ-BNV")
    assert Anatomy.from_json(d.meta.anatomy).number_value == "1452/QĐ-BNV"
    news = load_document(GENRES / "tin-quang-tri-khai-giang.txt", GENRES, 10**6)
    assert news.meta.province == "Quảng Trị" and news.meta.doc_type == "bài báo"
    # a sidecar still wins
    src = tmp_path / "kl.txt"
    src.write_text((GENRES / "kl-btv-hoa-binh.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "kl.meta.yaml").write_text("title: Kết luận sửa tay\nprovince: Phú Thọ\n", encoding="utf-8")
    side = load_document(src, tmp_path, 10**6)
    assert (side.meta.title, side.meta.province) == ("Kết luận sửa tay", "Phú Thọ")
    assert side.meta.date == "2018-11-22"


@pytest.mark.skipif(
    not REAL_DEV.is_dir(), reason="../shared/real-dev not present: real-page anatomy not checked"
)
def test_real_pages_headers() -> None:
    """On the real excerpts (read from ../shared, never copied): every văn bản with a header gets
    its number, date and issuing body, and the province of its issuer — national ones "Trung ương"."""
    expect = {
        "cv-5673-bnv-2023.txt": ("5673/BNV-CCVC", "2023-10-03", NATIONAL),
        "kh-7610-lam-dong-2019.txt": ("7610/KH-UBND", "2019-11-21", "Lâm Đồng"),
        "qd-6010-tphcm-2014.txt": ("6010/QĐ-UBND", "2014-12-10", "Hồ Chí Minh"),
        "qd-240-brvt-2004.txt": ("240/QĐ.UB", "2004-01-27", "Bà Rịa - Vũng Tàu"),
        "qd-54-qdtw-1999.txt": ("54-QĐ/TW", "1999-05-12", NATIONAL),
        "nq-01-2012-hdnd-ca-mau.txt": ("01/2012/NQ-HĐND", "2012-07-12", "Cà Mau"),
    }
    for name, (number, date, province) in expect.items():
        text = (REAL_DEV / name).read_text(encoding="utf-8")
        a = parse(text)
        assert a.number_value == number, name
        assert a.date and a.date.value == date, name
        assert a.issuer and a.issuer.value in " ".join(text[a.issuer.start : a.issuer.end].split()), name
        assert a.province == province, name


def test_user_corrections_go_to_the_sidecar_and_win(tmp_path: Path) -> None:
    from ingest.corpus import MetaError, sidecar_of, validate_meta, write_sidecar

    src = tmp_path / "tin.txt"
    src.write_text((GENRES / "tin-quang-tri-khai-giang.txt").read_text(encoding="utf-8"), encoding="utf-8")
    before = load_document(src, tmp_path, 10**6)
    side = write_sidecar(
        src, {"province": "quang tri", "date": "14/06/2023", "title": "Khai giảng lớp cao cấp"}
    )
    assert side == sidecar_of(src) and side.exists()
    after = load_document(src, tmp_path, 10**6)
    assert (after.meta.province, after.meta.date, after.meta.title) == (
        "Quảng Trị",
        "2023-06-14",
        "Khai giảng lớp cao cấp",
    )
    assert after.sha256 != before.sha256  # a correction re-indexes the document
    write_sidecar(src, {"title": ""})  # clearing a field brings back the inferred value
    assert load_document(src, tmp_path, 10**6).meta.title == before.meta.title
    assert validate_meta({"province": "Trung ương", "period": "2016 - 2020"}) == {
        "province": NATIONAL,
        "period": "2016-2020",
    }
    for bad in ({"province": "Atlantis"}, {"date": "31/13/2020"}, {"period": "2020-2010"}, {"owner": "x"}):
        with pytest.raises(MetaError) as e:
            validate_meta(bad)
        assert "/" in str(e.value)  # Vietnamese / English, naming the field or value


def test_excerpt_opening_with_its_type_line() -> None:
    """No motto, no number (a page that kept only the body): the type line still makes it a văn bản;
    the trích yếu may be mixed case and runs to the blank line; "**" emphasis is no part of a name."""
    text = (
        "\n\nKẾT LUẬN\nCỦA BAN CHẤP HÀNH ĐẢNG BỘ HUYỆN\nvề công tác bồi dưỡng cán bộ cơ sở\nnăm 2022\n\n"
        "Tại hội nghị ngày 10 tháng 3 năm 2023, Ban Chấp hành đã kết luận như sau:\n\n"
        "1. Kết quả: mở 12 lớp bồi dưỡng cho 640 lượt cán bộ.\n\n"
        "Nơi nhận:\n- Các chi bộ,\n- Lưu.\n\n**T/M BAN CHẤP HÀNH\nBÍ THƯ**\n\n\nLò Văn Quý"
    )
    a = parse(text)
    assert a.genre == "van_ban" and a.type_value == "Kết luận"
    assert a.summary and a.summary.value.endswith("về công tác bồi dưỡng cán bộ cơ sở năm 2022")
    assert a.date is None  # the meeting date in the body is not the issue date
    assert a.signer and _quote(text, a.signer) == "Lò Văn Quý"
    assert a.signature and a.signature.position and _quote(text, a.signature.position) == "BÍ THƯ"
