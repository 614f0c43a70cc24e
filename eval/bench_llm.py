"""Benchmark the local LLM backend: load time, prompt/generation speed, prefix caching.

Run: ``python -m eval.bench_llm`` (uses ``DTBD_*`` settings, e.g. ``DTBD_LLM_THREADS``).

Why: the product answers on small CPU-only machines; these numbers decide the default
``llm_max_tokens``/``top_k`` budgets and whether a shared system prompt is worth keeping
byte-identical across requests (llama.cpp reuses its KV cache only for an exact prefix).
"""

from __future__ import annotations

import argparse
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from assistant.llm import LocalLLMServer, ensure_local_model, get_chat_model, get_local_server
from assistant.settings import Settings

_RULE = (
    "Điều {n}. Cán bộ, công chức, viên chức được cử đi đào tạo, bồi dưỡng có trách nhiệm "
    "chấp hành nghiêm quy chế của cơ sở đào tạo, hoàn thành chương trình đúng thời hạn, "
    "báo cáo kết quả học tập với cơ quan quản lý và phục vụ tại cơ quan, đơn vị sau khi "
    "hoàn thành khoá học theo thời gian cam kết; trường hợp vi phạm phải đền bù chi phí."
)


def long_system_prompt(n_rules: int, session: str = "") -> str:
    """A RAG-like system prompt: instructions plus numbered Vietnamese regulation excerpts.

    ``session`` goes first so that different sessions share no cached prefix.
    """
    head = (
        f"{session}Bạn là Trợ lý ĐTBD, trả lời bằng tiếng Việt, ngắn gọn, chỉ dựa trên các trích đoạn "
        "dưới đây và ghi rõ nguồn [số].\n\n"
    )
    return head + "\n".join(f"[{n}] " + _RULE.format(n=n) for n in range(1, n_rules + 1))


@dataclass
class Row:
    name: str
    value: str
    note: str = ""


def raw_chat(server: LocalLLMServer, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One non-streaming request, to read llama.cpp's own ``timings`` block."""
    r = httpx.post(
        f"{server.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {server.api_key}"},
        json={"model": server.model, **body},
        timeout=timeout,
        trust_env=False,
    )
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def ttft(settings: Settings, system: str, question: str) -> tuple[float, float, int, int]:
    """Time to first token / total / cached prompt tokens / prompt tokens via the product path."""
    model = get_chat_model(settings)
    assert model is not None
    t0 = time.perf_counter()
    first: float | None = None
    usage: dict[str, Any] = {}
    for chunk in model.stream([("system", system), ("user", question)]):
        if first is None and chunk.content:
            first = time.perf_counter() - t0
        if getattr(chunk, "usage_metadata", None):
            usage = dict(chunk.usage_metadata)  # type: ignore[arg-type]
    total = time.perf_counter() - t0
    cached = int((usage.get("input_token_details") or {}).get("cache_read", 0))
    return (first if first is not None else total), total, cached, int(usage.get("input_tokens", 0))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rules", type=int, default=12, help="regulation excerpts in the system prompt")
    ap.add_argument("--gen-tokens", type=int, default=64, help="tokens to generate for the tg figure")
    ap.add_argument("--answer-tokens", type=int, default=16, help="max tokens for the TTFT questions")
    args = ap.parse_args(argv)

    settings = Settings(llm="local", llm_max_tokens=args.answer_tokens, llm_temperature=0.0)
    rows: list[Row] = []

    t0 = time.perf_counter()
    ensure_local_model(settings, progress=True)
    rows.append(
        Row("ensure_local_model", f"{time.perf_counter() - t0:.2f} s", "assemble or stamp-verified check")
    )

    t0 = time.perf_counter()
    server = get_local_server(settings)
    rows.append(Row("model load + server start", f"{time.perf_counter() - t0:.2f} s", server.base_url))

    nonce = uuid.uuid4().hex[:8]
    system = long_system_prompt(args.rules, session=f"(phiên đo {nonce}-a) ")
    # Prompt processing without any cache, then generation speed with a forced length.
    data = raw_chat(
        server,
        {
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": "Tóm tắt Điều 1."},
            ],
            "max_tokens": args.gen_tokens,
            "temperature": 0.0,
            "cache_prompt": False,
            "ignore_eos": True,
        },
        settings.llm_timeout_s,
    )
    tm = data["timings"]
    rows.append(
        Row(
            "prompt reading (pp)",
            f"{tm['prompt_per_second']:.1f} tok/s",
            f"{tm['prompt_n']} tokens, no cache",
        )
    )
    rows.append(
        Row("generation (tg)", f"{tm['predicted_per_second']:.1f} tok/s", f"{tm['predicted_n']} tokens")
    )

    # A new long system prompt (fresh nonce first: nothing cached), two different questions,
    # through the product path (ChatOpenAI streaming).
    system = long_system_prompt(args.rules, session=f"(phiên đo {nonce}-b) ")
    f1, t1, c1, n1 = ttft(settings, system, "Cán bộ được cử đi học có trách nhiệm gì?")
    f2, t2, c2, n2 = ttft(settings, system, "Nếu vi phạm cam kết thì phải làm gì?")
    rows.append(
        Row("TTFT question 1 (cold)", f"{f1:.2f} s", f"{c1}/{n1} prompt tokens cached, total {t1:.2f} s")
    )
    rows.append(
        Row(
            "TTFT question 2 (same system)",
            f"{f2:.2f} s",
            f"{c2}/{n2} prompt tokens cached, total {t2:.2f} s",
        )
    )
    rows.append(
        Row("prefix cache", "yes" if c2 > 0 and f2 < f1 else "NO", f"speed-up x{f1 / max(f2, 1e-6):.1f}")
    )

    width = max(len(r.name) for r in rows)
    vwidth = max(len(r.value) for r in rows)
    print(f"\nthreads={settings.llm_threads} ctx={settings.llm_ctx} model={settings.llm_model}")
    print(f"{'measure':<{width}}  {'value':>{vwidth}}  note")
    print(f"{'-' * width}  {'-' * vwidth}  {'-' * 40}")
    for r in rows:
        print(f"{r.name:<{width}}  {r.value:>{vwidth}}  {r.note}")


if __name__ == "__main__":
    main()
