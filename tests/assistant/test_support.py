"""Draft bullets are backed by the spans they cite (assistant.support, modes.draft), on real passages."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.citations import make_citation, markers
from assistant.modes.draft import bullet_line, enforce_support
from assistant.support import check_bullet, is_duplicate, supports
from assistant.types import Answer, Citation, Passage
from eval.metrics import AnswerCitation, bullet_unsupported


def _span(assistant: Any, province: str, words: str) -> Citation:
    """A citation of the real sentence-sized span of ``province``'s document that holds ``words``."""
    for p in assistant.passages:
        i = p.text.find(words)
        if p.province == province and i >= 0:
            return make_citation(1, p, p.start + i, p.start + i + len(words))
    raise AssertionError(f"{words!r} not in {province}")


LAO_CAI = "đa dạng hóa các loại hình đào tạo bồi dưỡng cán bộ, công chức cấp xã"
NGHE_AN = "chương trình đào tạo chuyên sâu"


def test_a_bullet_written_from_another_province_is_not_supported(assistant: Any) -> None:
    lao_cai = _span(assistant, "Lào Cai", LAO_CAI)
    # the wording of a Nghệ An measure, cited to Lào Cai's span (seen in a real LLM draft)
    wrong = "- Tổ chức chương trình đào tạo chuyên sâu về kỹ năng quản lý, điều hành, xử lý tình huống (Lào Cai) [1]."
    verdict = check_bullet(wrong, [lao_cai])
    assert not verdict.ok and verdict.word_support < 0.8, verdict
    # the span's own words pass
    assert check_bullet(f"- {LAO_CAI[0].upper() + LAO_CAI[1:]} (Lào Cai) [1].", [lao_cai]).ok


def test_a_bullet_crediting_a_province_its_span_does_not_name_fails(assistant: Any) -> None:
    lao_cai = _span(assistant, "Lào Cai", "tăng cường mở các lớp đào tạo, bồi dưỡng tại các huyện, cụm xã")
    bullet = "Tăng cường mở các lớp đào tạo, bồi dưỡng tại các huyện, cụm xã dựa trên kinh nghiệm của Hải Dương"
    verdict = supports(bullet, [lao_cai])
    assert not verdict.ok and "Hải Dương" in verdict.reason


def test_a_figure_the_span_lacks_fails(assistant: Any) -> None:
    lao_cai = _span(assistant, "Lào Cai", LAO_CAI)
    assert not supports(LAO_CAI + " cho 1.250 cán bộ", [lao_cai]).ok


def test_enforce_support_rewrites_a_wrong_bullet_from_its_own_span_and_drops_repeats(assistant: Any) -> None:
    lao_cai = _span(assistant, "Lào Cai", LAO_CAI)
    nghe_an = next(p for p in assistant.passages if p.province == "Nghệ An" and "thạc sỹ" in p.text)
    second = make_citation(2, nghe_an)
    llm = Answer(
        answer="\n".join(
            [
                "Đề xuất:",
                "- Tổ chức chương trình đào tạo chuyên sâu về kỹ năng xử lý tình huống (Lào Cai) [1].",
                "- Tổ chức chương trình đào tạo chuyên sâu về kỹ năng xử lý tình huống (Lào Cai) [1].",
            ]
        ),
        refused=False,
        mode="draft",
        citations=[lao_cai, second],
        path="llm",
    )
    fixed = enforce_support(llm, None)
    bullets = [line for line in fixed.answer.split("\n") if line.startswith("- ")]
    assert len(bullets) == 1  # rewritten once, the repeat dropped
    assert "đa dạng hóa các loại hình" in bullets[0].lower() and bullets[0].endswith("(Lào Cai) [1].")
    assert [c.province for c in fixed.citations] == ["Lào Cai"]  # the unused citation is gone
    assert fixed.notes and "viết lại" in fixed.notes[0]
    assert all(check_bullet(b, fixed.citations).ok for b in bullets)


def test_a_span_about_the_province_s_own_bodies_is_opened_with_the_province(assistant: Any) -> None:
    for p in assistant.passages:
        i = p.text.find("Ban Thường vụ Tỉnh ủy")
        if i >= 0 and p.province and p.province not in p.text[max(0, i - 200) : i + 200]:
            cit = make_citation(1, p, p.start + i, p.start + min(len(p.text), i + 120))
            line = bullet_line(cit)
            assert line.startswith(f"- Tại {p.province}, "), line
            assert check_bullet(line, [cit]).ok
            return
    pytest.skip("no unnamed Tỉnh ủy reference in the corpus")


def test_duplicates_are_recognised_across_layout() -> None:
    a = "Tăng cường mở các lớp đào tạo, bồi dưỡng tại các huyện, cụm xã"
    assert is_duplicate(a + ".", ["tăng cường mở các lớp  đào tạo bồi dưỡng tại các huyện, cụm xã (Lào Cai)"])
    assert not is_duplicate(a, ["Cử cán bộ đi học thạc sỹ ở nước ngoài"])


def test_every_extractive_draft_bullet_is_supported_by_the_eval_s_own_measure(assistant: Any) -> None:
    """The product's check and eval's independent one agree on real drafts (bullet support 1.0)."""
    questions = [
        "Giải pháp nâng cao chất lượng đào tạo lý luận chính trị",
        "Đề xuất giải pháp đào tạo, bồi dưỡng cán bộ, công chức cấp xã ở miền núi",
        "Kinh nghiệm đào tạo cán bộ ở nước ngoài",
    ]
    seen = 0
    for question in questions:
        ans = assistant.ask(question, mode="draft", use_llm=False)
        cits = [AnswerCitation(**c.to_json()) for c in ans.citations]
        by_n = {c.n: c for c in cits}
        bodies: list[str] = []
        for line in ans.answer.split("\n")[1:]:
            seen += 1
            cited = [by_n[n] for n in markers(line)]
            assert bullet_unsupported(line, cited) == "", line
            assert not is_duplicate(line, bodies), line
            bodies.append(line)
    assert seen >= 9


def test_support_uses_the_passage_title_for_names(assistant: Any) -> None:
    p: Passage = assistant.passages[0]
    cit = make_citation(1, p, p.start, p.start + min(80, len(p.text)))
    assert supports(p.text[:80], [cit]).ok
