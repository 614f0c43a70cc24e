"""``DTBD_LLM=openai`` against a real OpenAI-compatible server on 127.0.0.1.

The server is llama.cpp's (through xllamacpp, ``assistant.llm.start_local_openai_server``) serving
the bundled model; the assistant reaches it only through the OpenAI protocol, exactly as it would
reach vLLM or Ollama. A slice of ``eval/gold.yaml`` runs through it: figure and trap questions
(answered extractively, the LLM not needed) and questions that do call the LLM (a ``qa`` question
about a name, a draft). Every answer, whoever wrote it, must pass the grounding check and the
eval's hard checks (figures, refusals, provinces).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import PROJECT_ROOT, Settings
from tests.scale import CORPUS, free_port, settings_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Figure, percent, trap, abbreviation (no LLM needed) + a name question and a draft (LLM called).
SLICE = ["q001", "q040", "q117", "q090", "q081", "q138"]
CALLS_LLM = {"q081", "q138"}


@pytest.fixture(scope="module")
def llm_server() -> Iterator[Any]:
    from assistant.llm import start_local_openai_server

    server = start_local_openai_server(
        Settings(cache_dir=PROJECT_ROOT / "var" / "cache", llm_threads=2), port=free_port()
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def openai_settings(llm_server: Any, corpus_settings: Settings) -> Settings:
    return settings_for(
        Path(corpus_settings.index_dir),
        llm="openai",
        llm_base_url=llm_server.base_url,
        llm_api_key=llm_server.api_key,
        llm_model=llm_server.model,
        llm_max_tokens=96,
    )


def test_server_is_openai_compatible_on_loopback(llm_server: Any) -> None:
    import httpx

    assert llm_server.base_url.startswith("http://127.0.0.1:") and llm_server.base_url.endswith("/v1")
    headers = {"Authorization": f"Bearer {llm_server.api_key}"}
    with httpx.Client(trust_env=False, timeout=30) as client:
        models = client.get(f"{llm_server.base_url}/models", headers=headers)
        assert models.status_code == 200 and models.json()["data"], models.text
        assert client.get(f"{llm_server.base_url}/models").status_code == 401  # the key is required


def test_eval_slice_through_openai_backend(openai_settings: Settings) -> None:
    from assistant.grounding import check
    from assistant.llm import get_chat_model
    from assistant.service import Assistant
    from assistant.understanding import understand
    from eval.metrics import load_corpus_texts, load_gold, score_item

    model = get_chat_model(openai_settings)
    assert model is not None and str(getattr(model, "openai_api_base", "")) == openai_settings.llm_base_url

    gold = {g.id: g for g in load_gold(PROJECT_ROOT / "eval" / "gold.yaml")}
    texts = load_corpus_texts(CORPUS)
    bot = Assistant.from_settings(openai_settings)
    rows = []
    failures: list[tuple[str, ...]] = []  # collected, so one run shows every question's outcome
    for qid in SLICE:
        item = gold[qid]
        t0 = time.perf_counter()
        ans = bot.ask(item.question, mode=item.mode, history=list(item.history), use_llm=True)
        seconds = time.perf_counter() - t0
        g = check(
            ans.answer, ans.citations, understand(item.question, list(item.history)), refused=ans.refused
        )
        result = score_item(item, ans.to_json(), ans.retrieved_sources, texts)
        rows.append((qid, item.mode, ans.path, "llm" in ans.timings_ms, round(seconds, 1), ans.notes[:1]))
        if not g.ok:
            failures.append((qid, "grounding", "; ".join(g.problems), ans.answer))
        if not result.ok:
            failures.append((qid, "eval", "; ".join(result.reasons), ans.answer))
        # The LLM really ran where it should (its answer shown, or checked and replaced).
        if qid in CALLS_LLM and not ("llm" in ans.timings_ms and (ans.path == "llm" or ans.notes)):
            failures.append((qid, "llm not called", str(ans.timings_ms), ans.path))
    print("\n".join(map(str, rows)))
    assert not failures, failures


@pytest.mark.timeout(120)  # a gone server must not make the question hang
def test_server_gone_falls_back_to_extractive(openai_settings: Settings, llm_server: Any) -> None:
    """With the OpenAI-compatible server gone, LLM-backed questions still get the verified
    extractive answer with a note (last in the module: it stops the server)."""
    from assistant.service import Assistant

    bot = Assistant.from_settings(openai_settings)
    _ = bot.llm  # connect (probe) while the server is up
    llm_server.stop()
    ans = bot.ask(
        "Theo ông Đặng Ngọc Thức, ở Hải Dương cơ quan nào tham mưu Ban Cán sự đảng UBND tỉnh về đào tạo, bồi dưỡng?",
        use_llm=True,
    )
    assert not ans.refused and "Sở Nội vụ" in ans.answer and ans.path == "extractive"
    assert any("LLM" in n for n in ans.notes), ans.notes
