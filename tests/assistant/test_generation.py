"""What an LLM answer must hold before it is shown (``assistant.generation.unmet``), beyond the
grounding check: the extract's figure, enough provinces, and for who/where questions the name
of the clause that answers."""

from __future__ import annotations

from assistant.citations import make_citation
from assistant.generation import Requirements, unmet
from assistant.types import Passage

TEXT = "Ban Tổ chức Tỉnh ủy tham mưu Ban Thường vụ Tỉnh ủy, còn Sở Nội vụ tham mưu Ban Cán sự đảng UBND tỉnh."


def _citations() -> list:
    p = Passage(
        chunk_id="c", doc_id="d", source="bai.txt", title="Bài viết", province="Bắc Ninh", period="",
        doc_type="", section="", start=0, end=len(TEXT), text=TEXT, index_text=TEXT,
    )
    return [make_citation(1, p)]


def test_a_name_from_the_wrong_clause_is_not_shown() -> None:
    needs = Requirements(names=("Sở Nội vụ",))
    wrong = "Cơ quan tham mưu Ban Cán sự đảng UBND tỉnh là Ban Tổ chức Tỉnh ủy [1]."
    right = "Cơ quan tham mưu Ban Cán sự đảng UBND tỉnh là Sở Nội vụ [1]."
    problems = unmet(needs, wrong, _citations())
    assert problems and "Sở Nội vụ" in problems[0]
    assert unmet(needs, right, _citations()) == []


def test_no_name_required_when_none_is_named() -> None:
    assert unmet(Requirements(), "Cơ quan đó là Ban Tổ chức Tỉnh ủy [1].", _citations()) == []


def test_other_requirements_still_hold() -> None:
    assert unmet(Requirements(), "Sở Nội vụ.", []) == ["không có trích dẫn"]
    assert unmet(Requirements(figure="12"), "Mở 11 lớp [1].", _citations()) == ["thiếu số liệu của đoạn trích"]
    assert unmet(Requirements(min_provinces=2), "Ý kiến [1].", _citations()) == ["cần trích dẫn ít nhất 2 tỉnh"]
    assert unmet(Requirements(), "Không có thông tin [1].", _citations()) == ["mô hình từ chối dù có đoạn trích"]
    assert unmet(Requirements(), "Không có thông tin [1].", _citations(), refusal_expected=True) == []
