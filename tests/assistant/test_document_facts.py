"""Document facts (số hiệu, ngày ban hành, ai ký, cơ quan ban hành, hiệu lực, căn cứ, Điều N) read from
the anatomy stored at ingest, on a real index of the genre fixtures (real Chroma, real e5, real files).

The fixtures (tests/fixtures/genres/) were written for these tests: invented bodies, figures and names.
"""

from __future__ import annotations

from typing import Any

import pytest

from assistant.document_facts import answer_fact, intent_of
from assistant.settings import PROJECT_ROOT, Settings
from assistant.types import Answer
from assistant.understanding import understand
from ingest.provinces import NATIONAL

GENRES = PROJECT_ROOT / "tests" / "fixtures" / "genres"


@pytest.fixture(scope="module")
def genre_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("genres-index")
    settings = Settings(
        corpus_dir=GENRES,
        index_dir=root / "index",
        cache_dir=PROJECT_ROOT / "var" / "cache",
        feedback_log=root / "feedback.jsonl",
        llm="none",
    )
    report = run_ingest(settings)
    assert not report.errors, report.errors
    return settings


@pytest.fixture(scope="module")
def bot(genre_settings: Settings) -> Any:
    from assistant.service import Assistant

    return Assistant.from_settings(genre_settings)


def _fact(bot: Any, question: str) -> Answer | None:
    q = understand(question)
    scope = bot.retriever.scope_for(q)
    passages = bot.retriever.search(q, scope)
    return answer_fact(q, passages, bot.corpus.in_scope(scope))


def _check_citations(ans: Answer) -> None:
    """Every citation is an exact span of its file, and every marker resolves."""
    assert ans.citations
    for c in ans.citations:
        text = (GENRES / c.source).read_text(encoding="utf-8")
        assert text[c.start : c.end] == c.quote
        assert f"[{c.n}]" in ans.answer


def test_documents_get_province_and_title_from_their_anatomy(bot: Any) -> None:
    docs = {d.source: d for d in bot.documents()}
    assert docs["web-qd-bnv-tieu-chuan.txt"].province == NATIONAL  # a Bộ, signed in Hà Nội
    assert docs["qd-so-noi-vu-quang-binh.txt"].province == "Quảng Bình"  # parent body UBND tỉnh
    assert docs["kh-tinh-uy-yen-bai.txt"].province == "Yên Bái"
    assert docs["kl-btv-hoa-binh.txt"].province == "Hòa Bình"  # not fooled by "hòa bình" (peace)
    assert docs["bc-ket-qua-lop-ninh-binh.txt"].province == "Ninh Bình"
    assert docs["tin-quang-tri-khai-giang.txt"].province == "Quảng Trị"
    assert docs["qd-so-noi-vu-quang-binh.txt"].title.startswith("Quyết định 412/QĐ-SNV")
    assert docs["kh-tinh-uy-yen-bai.txt"].doc_type == "kế hoạch"


def test_signer_is_the_name_under_the_signature(bot: Any) -> None:
    ans = _fact(bot, "Ai ký Quyết định 412/QĐ-SNV?")
    assert ans is not None
    assert "Trương Khắc Duy" in ans.answer and "Phó Giám đốc" in ans.answer
    assert ans.answer.startswith("Quyết định số 412/QĐ-SNV [1] do")
    assert ans.citations[0].quote == "412/QĐ-SNV"  # the number the answer names is cited too
    assert "(Đã ký)" not in ans.answer
    _check_citations(ans)


def test_party_signer(bot: Any) -> None:
    ans = _fact(bot, "Kế hoạch đào tạo cán bộ chủ chốt cấp xã của Tỉnh ủy Yên Bái do ai ký?")
    assert ans is not None and "Hà Quang Tiến" in ans.answer, ans
    _check_citations(ans)


def test_issue_date_is_the_documents_own_not_a_basis(bot: Any) -> None:
    ans = _fact(
        bot,
        "Quyết định ban hành chương trình bồi dưỡng kỹ năng lãnh đạo cho trưởng phòng cấp huyện ban hành ngày nào?",
    )
    assert ans is not None
    assert "ngày 18 tháng 9 năm 2021" in ans.answer
    assert "2017" not in ans.answer  # the bases' dates
    _check_citations(ans)


def test_number(bot: Any) -> None:
    ans = _fact(
        bot, "Kết luận của Ban Thường vụ Tỉnh ủy Hòa Bình về đề án bồi dưỡng cán bộ trẻ có số hiệu là gì?"
    )
    assert ans is not None and "57-KL/TU" in ans.answer, ans
    _check_citations(ans)


def test_issuer_of_a_national_document(bot: Any) -> None:
    ans = _fact(bot, "Cơ quan nào ban hành Quyết định 1452/QĐ-BNV?")
    assert ans is not None
    assert "Bộ Nội vụ" in ans.answer and "Trung ương" in ans.answer
    assert "Hà Nội" not in ans.answer
    _check_citations(ans)


def test_issuer_with_parent_body(bot: Any) -> None:
    ans = _fact(bot, "Quyết định 412/QĐ-SNV do cơ quan nào ban hành?")
    assert ans is not None
    assert "Sở Nội vụ" in ans.answer and "Quảng Bình" in ans.answer
    _check_citations(ans)


def test_effect_clause(bot: Any) -> None:
    ans = _fact(bot, "Quyết định 412/QĐ-SNV có hiệu lực khi nào?")
    assert ans is not None
    assert "có hiệu lực kể từ ngày ký" in ans.answer
    assert "ngày 07 tháng 04 năm 2021" in ans.answer  # the day it was signed, cited too
    _check_citations(ans)
    ans2 = _fact(bot, "Quyết định 1452/QĐ-BNV có hiệu lực từ ngày nào?")
    assert ans2 is not None and "01 tháng 11 năm 2021" in ans2.answer
    _check_citations(ans2)


def test_what_it_replaces(bot: Any) -> None:
    ans = _fact(bot, "Quyết định 412/QĐ-SNV thay thế quyết định nào?")
    assert ans is not None
    assert ans.answer == ("Quyết định số 412/QĐ-SNV [1] thay thế Quyết định số 95/QĐ-SNV ngày 20/3/2019 [2].")
    _check_citations(ans)


def test_legal_bases_are_other_documents(bot: Any) -> None:
    ans = _fact(bot, "Quyết định 1452/QĐ-BNV căn cứ vào những văn bản nào?")
    assert ans is not None
    assert "34/2017/NĐ-CP" in ans.answer and "101/2017/NĐ-CP" in ans.answer
    assert [c.quote.split()[:3] for c in ans.citations[1:]] == [
        ["Căn", "cứ", "Nghị"],
        ["Căn", "cứ", "Nghị"],
    ]  # one citation per basis, after the one of the document's own number
    _check_citations(ans)


def test_article_n(bot: Any) -> None:
    ans = _fact(bot, "Điều 2 của Quyết định 412/QĐ-SNV quy định gì?")
    assert ans is not None
    assert "60 công chức" in ans.answer and ans.answer.startswith("Điều 2 của Quyết định số 412/QĐ-SNV")
    _check_citations(ans)


def test_news_author(bot: Any) -> None:
    ans = _fact(bot, "Ai viết bài báo về khai giảng hai lớp cao cấp lý luận chính trị ở Quảng Trị?")
    assert ans is not None and "Minh Châu" in ans.answer
    _check_citations(ans)


def test_signer_of_a_document_a_page_reports_on(bot: Any) -> None:
    """A number that is no document's own: the sentence reporting the signing says who signed."""
    ans = _fact(bot, "Ai ký Quyết định số 77/QĐ-SNV?")
    assert ans is not None
    assert ans.answer == "Giám đốc Sở Nội vụ Hoàng Minh Đức ký ban hành Quyết định số 77/QĐ-SNV [1]."
    _check_citations(ans)


def test_event_date_of_a_news_page(bot: Any) -> None:
    ans = _fact(bot, "Lễ khai giảng hai lớp cao cấp lý luận chính trị ở Quảng Trị diễn ra ngày nào?")
    assert ans is not None and "Ngày 12-6" in ans.answer
    _check_citations(ans)


def test_figure_questions_are_not_document_facts() -> None:
    assert intent_of("Quảng Trị đào tạo bao nhiêu học viên năm 2022?")[0] == ""
    assert intent_of("Có bao nhiêu học viên xếp loại giỏi?")[0] == ""
    assert intent_of("Điều 2 quy định gì?") == ("article", 2)
    assert intent_of("ai ky quyet dinh nay")[0] == "signer"


# -- the 2025 merger and national documents, end to end through Assistant.ask -------------------------


def test_current_province_reaches_its_former_parts(bot: Any) -> None:
    ans = bot.ask("Phú Thọ cử bao nhiêu cán bộ trẻ đi học cao cấp lý luận chính trị?")
    assert not ans.refused and "47" in ans.answer
    assert "Hòa Bình (cũ), nay thuộc tỉnh Phú Thọ" in ans.answer
    assert [c.source for c in ans.citations] == ["kl-btv-hoa-binh.txt"]


def test_period_before_the_merger_is_not_the_merged_partners(bot: Any) -> None:
    """Lào Cai's 2019–2022 figures are not Yên Bái's, although Yên Bái is part of Lào Cai now."""
    ans = bot.ask(
        "Giai đoạn 2019 - 2022 Lào Cai đào tạo trung cấp lý luận chính trị - hành chính "
        "cho bao nhiêu cán bộ chủ chốt cấp xã?"
    )
    assert ans.refused and "640" not in ans.answer


def test_naming_a_province_does_not_hide_national_documents(bot: Any) -> None:
    ans = bot.ask("Trưởng phòng cấp huyện ở Hòa Bình có được bồi dưỡng kỹ năng lãnh đạo không?")
    assert not ans.refused
    assert [c.source for c in ans.citations] == ["web-qd-bnv-tieu-chuan.txt"]
    assert "-------" not in ans.answer
