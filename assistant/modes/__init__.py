"""The registry of answer modes: each mode is one module here with one ``answer`` function.

A mode is named once, in ``REGISTRY``: the CLI's ``--mode`` choices, the API's ``mode`` field,
the app's radio buttons and example chips, and eval's per-mode reports all read it. Adding a
mode costs one file in this folder (``def answer(ctx: Context, q: Query, scope: Scope) ->
Steps``), one ``ModeSpec`` line below and its prompt files in ``prompts/``
(``<prompt>_system.md`` and ``<prompt>_user.md``, used when the LLM writes).

The registry itself imports nothing heavy: a mode's module is imported when it first answers,
so ``dtbd --help`` and the API schema read names and labels without loading retrieval.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.context import Context, Steps
    from assistant.retrieval import Scope
    from assistant.understanding import Query


@dataclass(frozen=True)
class ModeSpec:
    name: str  # the API/CLI value
    label: str  # what the app shows
    description: str  # one Vietnamese line: what the mode is for
    prompt: str  # prompts/<prompt>_system.md and prompts/<prompt>_user.md
    example: str  # an example question (the app's chips)

    def answer(self, ctx: Context, q: Query, scope: Scope) -> Steps:
        module = importlib.import_module(f"{__name__}.{self.name}")
        return module.answer(ctx, q, scope)  # type: ignore[no-any-return]


REGISTRY: dict[str, ModeSpec] = {
    spec.name: spec
    for spec in (
        ModeSpec("qa", "Hỏi đáp", "Trả lời câu hỏi bằng số liệu, ngày, tên trích nguyên văn từ tài liệu", "qa",
                 "Nghệ An đào tạo bao nhiêu thạc sỹ?"),
        ModeSpec("draft", "Soạn giải pháp", "Soạn mục giải pháp từ kinh nghiệm các tỉnh, mỗi ý có nguồn", "draft",
                 "Giải pháp nâng cao chất lượng đào tạo lý luận chính trị"),
        ModeSpec("learn", "Tìm hiểu", "Giải thích chữ viết tắt, văn bản được viện dẫn, tóm tắt tài liệu", "learn",
                 "LLCT là gì?"),
    )
}
MODE_NAMES: tuple[str, ...] = tuple(REGISTRY)


def get_mode(name: str) -> ModeSpec:
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        choices = ", ".join(MODE_NAMES)
        raise ValueError(f"chế độ không hợp lệ: {name!r} (dùng {choices}) / unknown mode: {name!r}") from None
