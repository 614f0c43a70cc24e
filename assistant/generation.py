"""LangChain pieces: prompts loaded from ``prompts/`` by name, and the generation chain.

The LLM only ever sees numbered passages and the question; what it writes goes through
the grounding check before anyone sees it (see ``assistant.service``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from assistant.injection import strip_instructions
from assistant.settings import PROJECT_ROOT
from assistant.types import Passage

PROMPTS_DIR = PROJECT_ROOT / "prompts"


@lru_cache(maxsize=32)
def load_prompt(name: str) -> str:
    """A prompt file's text (``prompts/<name>.md``)."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.exists():
        raise FileNotFoundError(f"Thiếu tệp lời nhắc / missing prompt file: {path}")
    return path.read_text(encoding="utf-8").strip()


def chat_prompt(mode: str) -> ChatPromptTemplate:
    """System rules first (a fixed prefix the llama.cpp cache reuses), then passages and question."""
    system = load_prompt(f"{mode}_system").replace("{", "{{").replace("}", "}}")
    return ChatPromptTemplate.from_messages([("system", system), ("human", load_prompt(f"{mode}_user"))])


def build_chain(llm: BaseChatModel, mode: str) -> Runnable:
    return chat_prompt(mode) | llm | StrOutputParser()


def refusal(detail: str = "") -> str:
    return load_prompt("refusal").format(detail=f" ({detail})" if detail else "")


def format_context(numbered: list[tuple[int, Passage, str]], max_chars: int = 1400) -> str:
    """``[n] (Tỉnh) text`` lines, cut to a budget: prompt reading dominates on 2 cores."""
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


def stream_chain(chain: Runnable, question: str, context: str) -> Iterator[str]:
    yield from chain.stream({"question": question, "context": context})
