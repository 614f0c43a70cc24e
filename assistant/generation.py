"""The only place an LLM writes: a LangChain chain (prompt files → chat model → text), streamed
sentence by sentence, each sentence grounding-checked before anyone sees it.

What the model writes is shown only when every figure, marker, province and period in it is
backed by the passages it cites; otherwise the mode's verified extractive answer is shown, and
why goes to ``Answer.notes`` (diagnostics, never the answer text).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from assistant.citations import attribute_single_source, renumber
from assistant.context import Context, Steps
from assistant.extractive import states_name
from assistant.figures import extract_figures
from assistant.grounding import check
from assistant.injection import strip_instructions
from assistant.prompts import load_prompt
from assistant.types import Answer, Citation, Passage
from assistant.understanding import Query

# Passages given to the model, in characters: prompt reading dominates on 2 cores (~50 tok/s).
CONTEXT_BUDGET_CHARS = 1400


def chat_prompt(mode: str) -> ChatPromptTemplate:
    """System rules first (a fixed prefix the llama.cpp cache reuses), then passages and question."""
    system = load_prompt(f"{mode}_system").replace("{", "{{").replace("}", "}}")
    return ChatPromptTemplate.from_messages([("system", system), ("human", load_prompt(f"{mode}_user"))])


def build_chain(llm: BaseChatModel, mode: str) -> Runnable:
    return chat_prompt(mode) | llm | StrOutputParser()


def format_context(numbered: list[tuple[int, Passage, str]], max_chars: int = CONTEXT_BUDGET_CHARS) -> str:
    """``[n] (Tỉnh) text`` lines, cut to a budget; instructions inside documents never reach the model."""
    lines = []
    budget = max_chars
    for n, p, text in numbered:
        text = " ".join(strip_instructions(text).split())
        if budget <= 0:
            break
        text = text[:budget]
        budget -= len(text)
        lines.append(f"[{n}] ({p.province or 'không rõ tỉnh'}) {text}")
    return "\n".join(lines)


@dataclass
class Requirements:
    """What an LLM answer must contain beyond passing the grounding check."""

    figure: str | None = None  # the canonical value of the extracted figure it must repeat
    min_provinces: int = 0  # drafts: cite at least this many provinces
    names: tuple[str, ...] = ()  # who/where: it must state one of these (the answering clause's names)


def unmet(needs: Requirements, text: str, citations: list[Citation], refusal_expected: bool = False) -> list[str]:
    """Why a finished LLM answer may not be shown (empty when it may), beyond the grounding check."""
    problems = []
    if not citations:
        problems.append("không có trích dẫn")
    if needs.figure is not None and needs.figure not in {f.value for f in extract_figures(text)}:
        problems.append("thiếu số liệu của đoạn trích")
    if needs.min_provinces and len({c.province for c in citations if c.province}) < needs.min_provinces:
        problems.append(f"cần trích dẫn ít nhất {needs.min_provinces} tỉnh")
    if needs.names and not any(states_name(text, n) for n in needs.names):
        problems.append("không nêu tên trong mệnh đề trả lời của đoạn trích: " + ", ".join(needs.names))
    if "không có thông tin" in text.lower() and not refusal_expected:
        problems.append("mô hình từ chối dù có đoạn trích")
    return problems


def generate(
    ctx: Context,
    prompt: str,
    q: Query,
    items: list[tuple[int, Passage, str]],
    citations: list[Citation],
    fallback: Answer,
    needs: Requirements | None = None,
) -> Steps:
    """Stream the LLM's answer from prompt ``prompt`` over ``items``; fall back when it fails a check."""
    from assistant.llm import LLMUnavailable, llm_slot, slot_stats

    llm = ctx.llm
    assert llm is not None
    needs = needs or Requirements()
    chain = build_chain(llm, prompt)
    context = format_context(items)
    t = time.perf_counter()
    buf = ""
    shown = ""
    try:
        ctx.status("queue", position=slot_stats(ctx.settings)["waiting"] + 1)
        with llm_slot(ctx.settings):
            ctx.status("writing")
            for piece in chain.stream({"question": q.text, "context": context}):
                if ctx.stopped():  # asked to stop: leave now, the slot is freed on the way out
                    fallback.notes.append("Dừng theo yêu cầu của người dùng.")
                    yield "", fallback
                    return
                buf += piece
                cut = max(buf.rfind(". "), buf.rfind("\n"), buf.rfind("] "))
                if cut > len(shown):
                    candidate = buf[: cut + 1]
                    g = check(attribute_single_source(candidate, citations), citations, q)
                    if not g.ok:
                        break
                    shown = candidate
                    yield shown, None
    except LLMUnavailable as e:
        fallback.notes.append(f"Mô hình ngôn ngữ chưa sẵn sàng: {e}")
        yield "", fallback
        return
    ctx.timed("llm", t)
    text = attribute_single_source(buf.strip(), citations)
    text, cits = renumber(text, citations)
    problems = [*check(text, cits, q).problems, *unmet(needs, text, cits, fallback.refused)]
    if problems:
        fallback.notes.append("Bản do mô hình soạn bị thay bằng bản trích nguyên văn: " + "; ".join(problems))
        yield "", fallback
        return
    yield (
        "",
        Answer(
            answer=text,
            refused=False,
            mode=fallback.mode,
            citations=cits,
            path="llm",
            retrieved_sources=fallback.retrieved_sources,
        ),
    )
