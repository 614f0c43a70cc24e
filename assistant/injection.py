"""Documents are data: sentences that try to instruct the assistant are never used as answers.

Such text ("bỏ qua mọi hướng dẫn…", "ignore previous instructions") is skipped by the
extractive path and removed from what the LLM sees, so it can neither become an answer
nor steer the model.
"""

from __future__ import annotations

import re

from ingest.chunking import sentence_spans
from ingest.normalize import strip_accents

_PATTERNS = [
    r"bo qua (?:moi |tat ca |cac )?(?:huong dan|chi dan|quy tac|lenh|yeu cau)",
    r"(?:hay|phai) (?:tra loi|noi|viet) rang",
    r"(?:tro li|he thong|mo hinh|ai|chatbot)(?: ao)?(?:,)? (?:hay|phai|can) ",
    r"loi nhac he thong|system prompt|prompt he thong",
    r"ignore (?:all |any |the )?(?:previous |prior |above )?(?:instructions|rules|prompts?)",
    r"disregard (?:all |the )?(?:previous |above )?instructions",
    r"you are now|act as|pretend to be|new instructions",
    r"quen (?:het |moi )?(?:huong dan|quy tac)",
]
# patterns go through the same folding as the text (y→i, no accents)
_INSTRUCTION = re.compile("|".join(strip_accents(p) for p in _PATTERNS))


def is_instruction(sentence: str) -> bool:
    """True for a sentence addressed to the assistant rather than stating a fact."""
    return bool(_INSTRUCTION.search(strip_accents(sentence)))


def strip_instructions(text: str) -> str:
    """The text without instruction-like sentences (for LLM context)."""
    keep = [text[s:e] for s, e in sentence_spans(text, 0, len(text)) if not is_instruction(text[s:e])]
    return " ".join(keep)
