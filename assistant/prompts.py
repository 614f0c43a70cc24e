"""The prompt files in ``prompts/``, loaded by name, and the fixed refusal sentence built from one.

Every text the product puts in front of a model or a user as a template lives in ``prompts/``;
this module is the only reader of that folder.
"""

from __future__ import annotations

from functools import lru_cache

from assistant.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"


@lru_cache(maxsize=32)
def load_prompt(name: str) -> str:
    """A prompt file's text (``prompts/<name>.md``)."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.exists():
        raise FileNotFoundError(f"Thiếu tệp lời nhắc / missing prompt file: {path}")
    return path.read_text(encoding="utf-8").strip()


def refusal(detail: str = "") -> str:
    return load_prompt("refusal").format(detail=f" ({detail})" if detail else "")
