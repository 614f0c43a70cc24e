"""eval.metrics on hand-made CLI answers over the real corpus (spans are located, never hard-coded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.metrics import (
    THRESHOLDS,
    GoldItem,
    ItemResult,
    aggregate,
    check_thresholds,
    fold,
    is_figure_only,
    load_corpus_texts,
    match_expected,
    score_item,
    strip_tail_boilerplate,
)

ROOT = Path(__file__).resolve().parents[2]
NA = "004_a33d8be99f4285d3.txt"
LC = "001_4cad61de56c6e0a2.txt"
LS = "000_4a7643c384b8e085.txt"
HB = "003_d86997e5cd88a41d.txt"


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return load_corpus_texts(ROOT / "corpus")


def cite(texts: dict[str, str], source: str, snippet: str, n: int = 1, province: str = "") -> dict[str, Any]:
    """A well-formed citation whose span is the first occurrence of ``snippet`` in ``source``."""
    start = texts[source].index(snippet)
    return {
        "n": n,
        "doc_id": source.split("_")[0],
        "source": source,
        "title": "",
        "province": province,
        "start": start,
        "end": start + len(snippet),
        "quote": snippet,
    }


def answer(
    text: str, citations: list[dict[str, Any]], refused: bool = False, total: float = 100.0
) -> dict[str, Any]:
    return {
        "answer": text,
        "refused": refused,
        "mode": "qa",
        "citations": citations,
        "timings_ms": {"retrieve": total / 4, "generate": total * 3 / 4},
    }


Q_MASTERS = GoldItem(
    id="q001",
    question="Nghệ An đào tạo bao nhiêu thạc sỹ?",
    kind="figure",
    expected=["935"],
    sources=[NA],
)
Q_TRAP = GoldItem(
    id="q117",
    question="Lào Cai có bao nhiêu cán bộ học thạc sĩ giai đoạn 2012-2020?",
    kind="trap",
    refuse=True,
)
SNIP_NA = "cử 935 cán bộ học thạc sỹ, 160 cán bộ học tiến sỹ"


# ---------------------------------------------------------------------------------------- single items


def test_correct_answer(texts: dict[str, str]) -> None:
    r = score_item(
        Q_MASTERS, answer("Nghệ An cử 935 cán bộ học thạc sỹ [1].", [cite(texts, NA, SNIP_NA)]), None, texts
    )
    assert r.figure_ok is True
    assert r.citation_precision == 1.0
    assert r.citation_recall == 1.0
    assert r.refusal_ok is True
    assert r.grounding_violations == 0
    assert r.reasons == []
    assert r.ok
    assert r.latency_ms == pytest.approx(100.0)
    assert r.rr is None and r.hit_at_k is None


def test_wrong_figure(texts: dict[str, str]) -> None:
    r = score_item(
        Q_MASTERS, answer("Nghệ An cử 953 cán bộ học thạc sỹ [1].", [cite(texts, NA, SNIP_NA)]), None, texts
    )
    assert r.figure_ok is False
    assert r.grounding_violations == 1
    assert r.ungrounded == ["953"]
    assert any("missing expected" in x for x in r.reasons)
    assert not r.ok


def test_fabricated_figure_not_in_citation(texts: dict[str, str]) -> None:
    text = "Nghệ An cử 935 cán bộ học thạc sỹ [1], tăng 20% so với năm 2011."
    r = score_item(Q_MASTERS, answer(text, [cite(texts, NA, SNIP_NA)]), None, texts)
    assert r.figure_ok is True  # the expected figure is there ...
    assert r.grounding_violations == 2  # ... but two others come from nowhere
    assert r.ungrounded == ["20%", "2011"]
    assert not r.ok


def test_figure_in_document_but_not_in_cited_quote_is_a_violation(texts: dict[str, str]) -> None:
    # 72.810 is in the document, but the answer cites only the thạc sỹ span
    text = "Nghệ An đào tạo 72.810 lượt, trong đó 935 thạc sỹ [1]."
    r = score_item(Q_MASTERS, answer(text, [cite(texts, NA, SNIP_NA)]), None, texts)
    assert r.ungrounded == ["72.810"]


def test_refused_trap(texts: dict[str, str]) -> None:
    text = "Tài liệu không có số liệu về số cán bộ Lào Cai học thạc sĩ giai đoạn 2012-2020."
    r = score_item(Q_TRAP, answer(text, [], refused=True), None, texts)
    assert r.refusal_ok is True
    assert r.figure_ok is None
    assert r.citation_precision is None
    assert r.citation_recall is None
    assert r.grounding_violations == 0  # figures echoed from the question are not claims
    assert r.ok


def test_answered_trap(texts: dict[str, str]) -> None:
    text = "Lào Cai cử 935 cán bộ học thạc sĩ [1]."
    r = score_item(Q_TRAP, answer(text, [cite(texts, NA, SNIP_NA)]), None, texts)
    assert r.refusal_ok is False
    assert "answered instead of refusing" in r.reasons
    assert not r.ok


def test_refused_answerable(texts: dict[str, str]) -> None:
    r = score_item(Q_MASTERS, answer("Không tìm thấy thông tin.", [], refused=True), None, texts)
    assert r.refusal_ok is False
    assert r.figure_ok is False
    assert r.citation_recall == 0.0
    assert "refused an answerable question" in r.reasons


def test_marker_with_bad_span(texts: dict[str, str]) -> None:
    c = cite(texts, NA, SNIP_NA)
    c["start"] += 7
    c["end"] += 7
    r = score_item(Q_MASTERS, answer("Nghệ An cử 935 cán bộ học thạc sỹ [1].", [c]), None, texts)
    assert r.citation_precision == 0.0
    assert any("quote differs" in x for x in r.reasons)
    assert r.figure_ok is True and r.grounding_violations == 0  # the quote itself still grounds the figure


@pytest.mark.parametrize(
    ("start", "end", "source"),
    [(-1, 10, NA), (10, 10, NA), (0, 10**7, NA), (0, 10, "999_missing.txt")],
)
def test_out_of_range_or_unknown_spans(texts: dict[str, str], start: int, end: int, source: str) -> None:
    c = cite(texts, NA, SNIP_NA) | {"start": start, "end": end, "source": source}
    r = score_item(Q_MASTERS, answer("935 [1]", [c]), None, texts)
    assert r.citation_precision == 0.0
    assert r.reasons


def test_dangling_marker(texts: dict[str, str]) -> None:
    r = score_item(
        Q_MASTERS,
        answer("Nghệ An cử 935 cán bộ học thạc sỹ [1][2].", [cite(texts, NA, SNIP_NA)]),
        None,
        texts,
    )
    assert r.citation_precision == pytest.approx(0.5)
    assert any("markers without a citation: [2]" in x for x in r.reasons)


def test_valid_span_without_expected_figure_is_imprecise_for_figure_items(texts: dict[str, str]) -> None:
    other = cite(texts, NA, "Nội dung đào tạo, bồi dưỡng cơ bản bám sát nhu cầu", n=2)
    r = score_item(
        Q_MASTERS,
        answer(
            "Nghệ An cử 935 cán bộ học thạc sỹ [1], bám sát nhu cầu [2].", [cite(texts, NA, SNIP_NA), other]
        ),
        None,
        texts,
    )
    assert r.citation_precision == pytest.approx(0.5)
    assert any("none of the expected figures" in x for x in r.reasons)


def test_whitespace_differences_in_quote_are_tolerated(texts: dict[str, str]) -> None:
    c = cite(texts, LC, "chiếm tỷ lệ 50,4% (tăng 8,5% so với\u00a0 năm 2014)")
    c["quote"] = "chiếm tỷ lệ 50,4% (tăng 8,5% so với năm 2014)"
    item = GoldItem(id="q041", question="tăng bao nhiêu?", kind="percent", expected=["8,5%"], sources=[LC])
    r = score_item(item, answer("Tăng 8,5% so với năm 2014 [1].", [c]), None, texts)
    assert r.citation_precision == 1.0 and r.ok


def test_money_percent_date_docnum_variants(texts: dict[str, str]) -> None:
    item = GoldItem(
        id="q900",
        question="Kinh phí và văn bản?",
        kind="money",
        expected=["26,8 tỷ đồng", "50,4%", "10-2-2017", "52-KH/BTCTW"],
        sources=[LC, LS],
    )
    cites = [
        cite(texts, LC, "kinh phí địa phương hơn 26,8 tỷ đồng", n=1),
        cite(texts, LC, "chiếm tỷ lệ 50,4%", n=2),
        cite(texts, LS, "Kế hoạch số 52-KH/BTCTW ngày 10-2-2017", n=3),
    ]
    text = "Kinh phí địa phương hơn 26,8 tỷ [1]; tỷ lệ 50,4 % [2]; Kế hoạch 52-KH/BTCTW ngày 10/02/2017 [3]."
    r = score_item(item, answer(text, cites), None, texts)
    assert r.figure_ok is True, r.reasons
    assert r.citation_precision == 1.0
    assert r.grounding_violations == 0


def test_text_expected_is_case_and_diacritics_insensitive(texts: dict[str, str]) -> None:
    item = GoldItem(id="q074", question="Ai ký?", kind="name", expected=["Nguyễn Văn Thông"], sources=[NA])
    r = score_item(
        item, answer("Nguyen Van Thong ky [1].", [cite(texts, NA, "Nguyễn Văn Thông")]), None, texts
    )
    assert r.figure_ok is True


def test_source_paths_are_normalized(texts: dict[str, str]) -> None:
    c = cite(texts, NA, SNIP_NA) | {"source": f"corpus/{NA}"}
    r = score_item(Q_MASTERS, answer("935 thạc sỹ [1]", [c]), None, texts)
    assert r.citation_recall == 1.0 and r.citation_precision == 1.0


def test_retrieval_rank(texts: dict[str, str]) -> None:
    a = answer("Nghệ An cử 935 cán bộ học thạc sỹ [1].", [cite(texts, NA, SNIP_NA)])
    r = score_item(Q_MASTERS, a, [LC, LS, NA], texts, k=2)
    assert r.first_rank == 3 and r.rr == pytest.approx(1 / 3) and r.hit_at_k is False
    r = score_item(Q_MASTERS, a, [LC], texts)
    assert r.first_rank is None and r.rr == 0.0 and r.hit_at_k is False
    r = score_item(Q_MASTERS, a, [NA], texts)
    assert r.rr == 1.0 and r.hit_at_k is True


def test_draft_needs_provinces(texts: dict[str, str]) -> None:
    item = GoldItem(
        id="q138", question="Soạn kế hoạch", mode="draft", kind="draft", sources=[LC, LS], min_provinces=2
    )
    one = [cite(texts, LC, "trên 9.700 lượt", province="Lào Cai")]
    r = score_item(item, answer("Lào Cai: trên 9.700 lượt [1].", one), None, texts)
    assert r.provinces_ok is False and r.figure_ok is None and r.citation_recall == 0.5
    two = one + [cite(texts, LS, "1.093 đồng chí", n=2, province="Lạng Sơn")]
    r = score_item(
        item, answer("Lào Cai: trên 9.700 lượt [1]; Lạng Sơn: 1.093 đồng chí [2].", two), None, texts
    )
    assert r.provinces_ok is True and r.citation_recall == 1.0 and r.ok


def test_bad_answer_json_is_reported_not_raised(texts: dict[str, str]) -> None:
    r = score_item(Q_MASTERS, {"answer": "935"}, None, texts)
    assert not r.ok
    assert r.reasons and "schema" in r.reasons[0]


def test_latency_prefers_total(texts: dict[str, str]) -> None:
    a = answer("935 [1]", [cite(texts, NA, SNIP_NA)])
    a["timings_ms"] = {"retrieve": 10.0, "generate": 20.0, "total": 35.0}
    assert score_item(Q_MASTERS, a, None, texts).latency_ms == 35.0


# ---------------------------------------------------------------------------------------- helpers


def test_fold_unifies_spelling_variants() -> None:
    assert fold("thạc sỹ") == fold("thạc sĩ") == fold("thac si")
    assert fold("Đảng uỷ") == fold("Đảng ủy") == "dang uy"
    assert fold("Hoà Bình") == fold("Hòa Bình")
    assert fold("Chính sách-Đào tạo") == fold("Chính sách – Đào tạo")


def test_is_figure_only() -> None:
    for s in (
        "935",
        "72.810",
        "50,4%",
        "31 tỷ đồng",
        "hơn 26,8 tỷ đồng",
        "10-2-2017",
        "ngày 10-2-2017",
        "1-2",
        "tháng 4-2017",
        "592/QĐ-UBND",
    ):
        assert is_figure_only(s), s
    for s in ("Nguyễn Văn Thông", "Quy định số 54", "Đề án 02", "Trung ương 3", "XIX"):
        assert not is_figure_only(s), s


def test_match_expected_uses_word_boundaries() -> None:
    assert match_expected("vùng II", "các xã vùng II, vùng III")
    assert not match_expected("vùng II", "các xã vùng III")
    assert match_expected("72.810", "tổng 72810 lượt")
    assert not match_expected("50,4%", "khoảng 50,4 lượt")


def test_strip_tail_boilerplate_keeps_offsets(texts: dict[str, str]) -> None:
    full = texts[HB]
    body = strip_tail_boilerplate(full)
    assert full.startswith(body) and "nhà ở xã hội" in full and "nhà ở xã hội" not in body
    assert "Phạm Xuân Triển" in body


# ---------------------------------------------------------------------------------------- aggregate + gates


def _result(**kw: Any) -> ItemResult:
    base: dict[str, Any] = dict(
        id="q",
        kind="figure",
        mode="qa",
        refuse_expected=False,
        refused=False,
        figure_ok=True,
        citation_precision=1.0,
        citation_recall=1.0,
        refusal_ok=True,
        grounding_violations=0,
        ungrounded=[],
        rr=1.0,
        first_rank=1,
        hit_at_k=True,
        provinces_ok=None,
        latency_ms=100.0,
    )
    base.update(kw)
    return ItemResult(**base)


def test_aggregate_and_thresholds() -> None:
    results = [
        _result(id="a", latency_ms=100.0),
        _result(id="b", latency_ms=200.0, figure_ok=False, rr=0.5, first_rank=2, hit_at_k=True),
        _result(id="c", latency_ms=300.0, rr=0.0, first_rank=None, hit_at_k=False, grounding_violations=2),
        _result(
            id="d",
            kind="trap",
            refuse_expected=True,
            refused=True,
            figure_ok=None,
            citation_precision=None,
            citation_recall=None,
            rr=None,
            first_rank=None,
            hit_at_k=None,
            latency_ms=50.0,
        ),
        _result(
            id="e",
            mode="draft",
            kind="draft",
            figure_ok=None,
            latency_ms=1000.0,
            refusal_ok=False,
            refused=True,
        ),
    ]
    s = aggregate(results, k=1)
    assert s["n_items"] == 5
    assert s["figure_accuracy"] == pytest.approx(2 / 3)
    assert s["recall_at_k"] == pytest.approx(2 / 4)  # a and e at rank 1; b at 2; c missing
    assert s["mrr"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert s["refusal_accuracy"] == pytest.approx(4 / 5)
    assert s["refusal_recall"] == 1.0
    assert s["false_refusal_rate"] == pytest.approx(1 / 4)
    assert s["grounding_violations"] == 2
    assert s["latency_ms"]["qa"]["p50"] == pytest.approx(150.0)  # qa: 50, 100, 200, 300
    assert s["latency_ms"]["qa"]["p95"] == pytest.approx(285.0)
    assert s["latency_ms"]["draft"] == {"n": 1, "p50": 1000.0, "p95": 1000.0}
    assert s["by_kind"]["figure"] == {"n": 3, "ok": 1}
    assert s["failed"] == ["b", "c", "e"]

    failures = check_thresholds(s)
    assert len(failures) == 3
    assert any(f.startswith("figure_accuracy") for f in failures)
    assert any(f.startswith("refusal_accuracy") for f in failures)
    assert any(f.startswith("grounding_violations") for f in failures)

    good = aggregate([_result(id=str(i)) for i in range(10)])
    assert check_thresholds(good) == []


def test_unmeasured_metric_fails_gate() -> None:
    assert check_thresholds({"refusal_accuracy": 1.0, "grounding_violations": 0}) == [
        "figure_accuracy: not measured (needs >= 0.9)"
    ]


def test_thresholds_are_the_documented_starting_gates() -> None:
    assert THRESHOLDS["figure_accuracy"] == (">=", 0.9)
    assert THRESHOLDS["refusal_accuracy"] == (">=", 0.9)
    assert THRESHOLDS["grounding_violations"] == ("==", 0)


def test_aggregate_empty() -> None:
    s = aggregate([])
    assert s["n_items"] == 0 and s["figure_accuracy"] is None and s["latency_ms"] == {}
