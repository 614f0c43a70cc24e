"""Load on loopback: the real API (``dtbd serve``) under a bounded concurrent load.

The extractive path must answer 20 concurrent clients with zero errors and right answers; the
LLM path (one slot) must queue concurrent requests rather than fail, while extractive questions
keep being answered.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.settings import PROJECT_ROOT, Settings
from eval.load import run_load
from tests.scale import LOOPBACK, PY, VENV_BIN, child_env, free_port, stop_process

pytestmark = pytest.mark.timeout(900)


@contextmanager
def api_server(settings: Settings, log: Path, **env: str) -> Iterator[str]:
    """``dtbd serve`` on 127.0.0.1:<free port> in a subprocess; always stopped."""
    port = free_port()
    full_env = child_env(
        **{
            "DTBD_HOST": LOOPBACK,
            "DTBD_API_PORT": str(port),
            "DTBD_INDEX_DIR": str(settings.index_dir),
            "DTBD_CORPUS_DIR": str(settings.corpus_dir),
            "DTBD_CACHE_DIR": str(PROJECT_ROOT / "var" / "cache"),
            "DTBD_FEEDBACK_LOG": str(log.with_suffix(".feedback.jsonl")),
            "DTBD_LLM": "none",
            **env,
        }
    )
    url = f"http://{LOOPBACK}:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "dtbd"), "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=log.parent,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dtbd serve exited {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"dtbd serve did not answer /health:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        stop_process(proc)


def test_extractive_path_under_20_concurrent_clients(corpus_settings: Settings, tmp_path: Path) -> None:
    with api_server(corpus_settings, tmp_path / "api.log") as url:
        result = asyncio.run(run_load(url, clients=20, seconds=15, max_requests=20_000, timeout=120))
        health = httpx.get(f"{url}/health", timeout=10, trust_env=False).json()
    print("\nload:", result.summary())
    (tmp_path / "load.json").write_text(json.dumps(result.__dict__, ensure_ascii=False), encoding="utf-8")
    assert result.errors == 0, (result.error_kinds, result.examples)
    assert result.wrong == 0 and result.inconsistent == 0, result.examples
    assert result.requests >= 20 and result.ok == result.requests
    assert result.started_after_deadline == 0  # bounded: nothing started after the deadline
    assert health["status"] == "ok"


def test_load_cli(corpus_settings: Settings, tmp_path: Path) -> None:
    """``python -m eval.load`` as documented: prints the figures, exit 0 when all went well."""
    with api_server(corpus_settings, tmp_path / "api.log") as url:
        out = tmp_path / "load.json"
        proc = subprocess.run(
            [PY, "-m", "eval.load", "--url", url, "--clients", "3", "--seconds", "3", "--json", str(out)],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=PROJECT_ROOT,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "req/s" in proc.stdout and "p95" in proc.stdout and "errors 0" in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["requests"] > 0 and data["errors"] == 0 and data["p95_ms"] is not None


def test_bounded_by_max_requests(corpus_settings: Settings, tmp_path: Path) -> None:
    with api_server(corpus_settings, tmp_path / "api.log") as url:
        result = asyncio.run(run_load(url, clients=5, seconds=600, max_requests=12))
    assert result.requests == 12 and result.errors == 0
    assert result.seconds < 600  # it stopped at the request budget, long before its deadline


# Questions answered through the LLM in qa mode (not figures: those stay extractive).
LLM_QUESTIONS = [
    "Theo ông Đặng Ngọc Thức, ở Hải Dương cơ quan nào tham mưu Ban Cán sự đảng UBND tỉnh về đào tạo, bồi dưỡng?",
    "Theo Kết luận của Nghệ An, cơ quan nào là cơ quan thường trực theo dõi, đôn đốc việc thực hiện?",
    "Ai là Trưởng Phòng Chính sách - Đào tạo cán bộ của Ban Tổ chức Tỉnh ủy Hải Dương?",
]


@pytest.mark.slow
def test_llm_path_queues_instead_of_failing(corpus_settings: Settings, tmp_path: Path) -> None:
    """One LLM slot, three concurrent LLM-backed requests: all complete, one after another;
    a figure question sent meanwhile is answered without waiting for the LLM queue."""
    with api_server(
        corpus_settings,
        tmp_path / "api.log",
        DTBD_LLM="local",
        DTBD_LLM_MAX_CONCURRENCY="1",
        DTBD_LLM_MAX_TOKENS="16",
        DTBD_LLM_THREADS="2",
    ) as url:

        def ask(question: str) -> tuple[int, dict[str, Any], float]:
            t0 = time.perf_counter()
            r = httpx.post(f"{url}/ask", json={"question": question}, timeout=600, trust_env=False)
            return r.status_code, r.json(), time.perf_counter() - t0

        with ThreadPoolExecutor(max_workers=4) as pool:
            llm_futures = [pool.submit(ask, q) for q in LLM_QUESTIONS]
            time.sleep(2.0)
            figure = pool.submit(ask, "Nghệ An đào tạo bao nhiêu thạc sỹ?")
            results = [f.result(timeout=900) for f in llm_futures]
            fig_status, fig_body, fig_seconds = figure.result(timeout=900)
        llm_queue = httpx.get(f"{url}/health", timeout=30, trust_env=False).json()["llm_queue"]

    for status, body, _ in results:
        assert status == 200, body
        assert body["answer"] and not body["refused"], body
        assert "llm" in body["timings_ms"], body  # it went through the LLM (shown or replaced)
    llm_ms = sorted(float(body["timings_ms"]["llm"]) for _, body, _ in results)
    print(
        f"\nLLM queue: llm ms {[round(x) for x in llm_ms]}, wall s {[round(s, 1) for *_, s in results]}; "
        f"figure question answered in {fig_seconds:.1f}s meanwhile; /health llm_queue {llm_queue}"
    )
    # Queued, not parallel: never more than one generation at once, and the requests that
    # arrived while the slot was taken waited for it instead of failing.
    assert llm_queue["limit"] == 1 and llm_queue["max_in_use"] == 1, llm_queue
    assert llm_queue["served"] >= len(LLM_QUESTIONS) and llm_queue["queued"] >= 1, llm_queue
    assert llm_queue["in_use"] == 0 and llm_queue["waiting"] == 0 and llm_queue["timed_out"] == 0, llm_queue
    assert fig_status == 200 and "935" in str(fig_body["answer"])
    # The figure path never enters the LLM queue, so it does not wait for it.
    assert "llm" not in fig_body["timings_ms"], fig_body
