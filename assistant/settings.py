"""One settings object for the whole product (env prefix ``DTBD_``), built on ingest's section.

Every backend choice (embedder, vector store, LLM) is read from here, so a site
switches from the embedded defaults to servers with environment variables only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from ingest.settings import PROJECT_ROOT, IngestSettings

__all__ = ["PROJECT_ROOT", "IngestSettings", "Settings", "get_settings"]


class Settings(IngestSettings):
    """Everything: the ingest section plus retrieval, generation and serving."""

    feedback_log: Path = Field(default=PROJECT_ROOT / "var" / "feedback.jsonl")

    # --- retrieval ------------------------------------------------------------------
    top_k: int = 6
    fusion: Literal["rrf", "weighted"] = "weighted"
    # measured: 0.3 ties 0.5 on every seed-eval figure (MRR .859 vs .855) and wins on 300 real
    # legal questions (ALQAC R@1 .953 vs .927 at 500 articles); see README, "Why these defaults"
    dense_weight: float = 0.3
    dense_weight_accentless: float = 0.3  # cap for accent-free questions: e5 reads them poorly
    year_boost: float = 0.15  # added to a passage naming a year the question asks about
    candidates: int = 30  # per index, before fusion: enough for scoped questions at 100k chunks

    # --- generation -----------------------------------------------------------------
    llm: Literal["local", "openai", "none"] = "local"
    llm_base_url: str | None = Field(default=None, description="Máy chủ tương thích OpenAI, vd. vLLM")
    llm_model: str = "qwen2.5-coder-1.5b-instruct"
    llm_api_key: str = "not-needed"
    llm_max_tokens: int = 256
    llm_temperature: float = 0.1
    llm_timeout_s: float = 300.0
    llm_threads: int = 2
    llm_ctx: int = 4096
    llm_max_concurrency: int = 1
    rephrase_figures: bool = Field(
        default=False, description="Cho LLM diễn đạt lại câu trả lời số liệu (chậm hơn, vẫn kiểm chứng)"
    )

    # --- serving --------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860
    api_port: int = 8000
    auth_user: str | None = None
    auth_password: str | None = None
    max_request_bytes: int = 64 * 1024
    max_upload_mb: float = 20.0

    # --- the chat app (assistant/app*.py) ---------------------------------------------
    export_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "exports", description="Bản .docx để tải về (tự dọn)"
    )
    conversations_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "conversations",
        description="Hội thoại lưu theo tài khoản khi có đăng nhập",
    )

    # --- web security (issue 11; see assistant/web_policy.py and the README's security section) ---
    allowed_origins: list[str] = Field(
        default_factory=list, description="Nguồn khác được phép ghi, vd. [\"https://cong.example.vn\"]"
    )
    body_timeout_s: float = Field(
        default=30.0, description="Thân yêu cầu không đến đủ trong thời gian này thì trả 408"
    )
    max_waiting_ingests: int = Field(
        default=32, description="Số lượt nạp tệp được xếp hàng; quá số này trả 503"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings(...)`` instead."""
    return Settings()
