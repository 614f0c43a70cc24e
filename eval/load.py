"""Bounded load test against ``POST /ask``: N concurrent clients for S seconds (and at most M requests).

Run against a running API (``dtbd serve``; ``DTBD_LLM=none`` for the extractive path)::

    python -m eval.load --url http://127.0.0.1:8000 --clients 20 --seconds 60

Prints requests, throughput (req/s), p50/p95/max latency and the error count; ``--json FILE``
also writes them. Each client sends the next question of a fixed list as soon as it has its
answer (a closed loop, so the server is never flooded beyond ``--clients`` requests in flight).
Every answer is checked: a non-200 status, a transport error or a body without an answer is an
error; an answer missing its expected figure counts as ``wrong``, and one that differs from the
answer the same question got when asked alone (before the load) as ``inconsistent``. The exit
status is 1 when there were errors, wrong or inconsistent answers.

Why: the product serves a training centre from one small machine; this measures what 20 people
asking at once get, and shows the extractive path stays correct under concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

REFUSED = "<refused>"

# (question, mode, a string the answer must contain, or REFUSED) — answered extractively from corpus/.
QUESTIONS: list[tuple[str, str, str]] = [
    ("Nghệ An đào tạo bao nhiêu thạc sỹ?", "qa", "935"),
    ("Tỷ lệ cán bộ, công chức cấp xã đạt chuẩn ở Lào Cai là bao nhiêu?", "qa", "50,4%"),
    ("Giai đoạn 2012-2020, Nghệ An cử bao nhiêu cán bộ đi học tiến sĩ?", "qa", "160"),
    ("Nghệ An cử bao nhiêu cán bộ học cao cấp lý luận chính trị trong giai đoạn 2012-2020?", "qa", "2.161"),
    ("nghe an dao tao bao nhieu thac sy", "qa", "935"),
    ("Quảng Trị đã đào tạo bao nhiêu cán bộ lãnh đạo, quản lý giai đoạn 2015-2020?", "qa", REFUSED),
    ("LLCT là viết tắt của gì?", "learn", "lý luận chính trị"),
]

MAX_REQUEST_CAP = 1_000_000  # a hard ceiling on top of --max-requests, whatever is asked


@dataclass
class LoadResult:
    url: str
    clients: int
    seconds: float  # wall time of the run
    requests: int = 0
    ok: int = 0
    errors: int = 0
    wrong: int = 0
    inconsistent: int = 0  # differs from the answer the same question got alone, before the load
    throughput: float = 0.0  # completed requests per second
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None
    started_after_deadline: int = 0  # must stay 0: the run is bounded by its deadline
    error_kinds: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # first few error/wrong descriptions

    def summary(self) -> str:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.0f} ms"

        return (
            f"{self.requests} requests in {self.seconds:.1f} s from {self.clients} clients: "
            f"{self.throughput:.1f} req/s, p50 {ms(self.p50_ms)}, p95 {ms(self.p95_ms)}, "
            f"max {ms(self.max_ms)}; errors {self.errors}, wrong answers {self.wrong}, "
            f"inconsistent {self.inconsistent}"
        )


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def _client(
    http: httpx.AsyncClient,
    i: int,
    deadline: float,
    budget: list[int],
    questions: list[tuple[str, str, str]],
    latencies: list[float],
    kinds: Counter[str],
    examples: list[str],
    baseline: dict[str, str],
    late: list[int],
) -> None:
    n = i  # clients start at different questions
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        if time.monotonic() >= deadline:
            late[0] += 1
        question, mode, expect = questions[n % len(questions)]
        n += 1
        t0 = time.perf_counter()
        try:
            r = await http.post("/ask", json={"question": question, "mode": mode})
            elapsed = (time.perf_counter() - t0) * 1000
        except httpx.HTTPError as e:
            kinds[f"transport:{type(e).__name__}"] += 1
            if len(examples) < 5:
                examples.append(f"{question!r}: {e!r}")
            continue
        latencies.append(elapsed)
        if r.status_code != 200:
            kinds[f"http:{r.status_code}"] += 1
            if len(examples) < 5:
                examples.append(f"{question!r}: HTTP {r.status_code} {r.text[:200]}")
            continue
        try:
            body = r.json()
            answer = str(body["answer"])
        except (ValueError, KeyError, TypeError):
            kinds["bad-body"] += 1
            if len(examples) < 5:
                examples.append(f"{question!r}: {r.text[:200]}")
            continue
        if (body.get("refused") is not True) if expect == REFUSED else (expect not in answer):
            kinds["wrong"] += 1
            if len(examples) < 5:
                examples.append(f"{question!r}: expected {expect!r} in {answer[:160]!r}")
            continue
        if question in baseline and answer != baseline[question]:
            kinds["inconsistent"] += 1
            if len(examples) < 5:
                examples.append(f"{question!r}: {answer[:120]!r} != alone {baseline[question][:120]!r}")
            continue
        kinds["ok"] += 1


async def run_load(
    url: str,
    clients: int = 20,
    seconds: float = 60.0,
    max_requests: int = 100_000,
    timeout: float = 120.0,
    questions: list[tuple[str, str, str]] | None = None,
    auth: tuple[str, str] | None = None,
    consistency: bool = True,
) -> LoadResult:
    """Drive ``clients`` closed-loop clients for ``seconds`` (and at most ``max_requests``).

    With ``consistency`` each question is first asked once on its own (not counted); under load
    every answer must then be the same text (catches answers mixed up between concurrent requests).
    """
    if clients < 1 or seconds <= 0:
        raise ValueError("clients must be >= 1 and seconds > 0")
    questions = questions or QUESTIONS
    budget = [min(max_requests, MAX_REQUEST_CAP)]
    latencies: list[float] = []
    kinds: Counter[str] = Counter()
    examples: list[str] = []
    late = [0]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=url.rstrip("/"), timeout=timeout, limits=limits, trust_env=False, auth=auth
    ) as http:
        baseline: dict[str, str] = {}
        if consistency:
            for question, mode, _ in questions:
                r = await http.post("/ask", json={"question": question, "mode": mode})
                if r.status_code == 200:
                    baseline[question] = str(r.json().get("answer", ""))
        t0 = time.monotonic()
        deadline = t0 + seconds
        tasks = [
            asyncio.create_task(
                _client(http, i, deadline, budget, questions, latencies, kinds, examples, baseline, late)
            )
            for i in range(clients)
        ]
        # Requests in flight at the deadline may finish; none is started after it.
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + timeout + 10)
        wall = time.monotonic() - t0
    requests = sum(kinds.values())
    errors = requests - kinds["ok"] - kinds["wrong"] - kinds["inconsistent"]
    return LoadResult(
        url=url,
        clients=clients,
        seconds=wall,
        requests=requests,
        ok=kinds["ok"],
        errors=errors,
        wrong=kinds["wrong"],
        inconsistent=kinds["inconsistent"],
        throughput=requests / wall if wall > 0 else 0.0,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        max_ms=max(latencies) if latencies else None,
        mean_ms=sum(latencies) / len(latencies) if latencies else None,
        error_kinds={k: v for k, v in kinds.items() if k not in ("ok",)},
        started_after_deadline=late[0],
        examples=examples,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="gốc của API, vd. http://127.0.0.1:8000")
    ap.add_argument("--clients", type=int, default=20, help="số máy khách đồng thời")
    ap.add_argument("--seconds", type=float, default=60.0, help="thời lượng (giây)")
    ap.add_argument("--max-requests", type=int, default=100_000, help="trần số yêu cầu")
    ap.add_argument("--timeout", type=float, default=120.0, help="thời gian chờ mỗi yêu cầu (giây)")
    ap.add_argument("--user", default=None, help="tên đăng nhập (DTBD_AUTH_USER)")
    ap.add_argument("--password", default=None, help="mật khẩu (DTBD_AUTH_PASSWORD)")
    ap.add_argument("--json", type=Path, default=None, dest="json_out", help="ghi kết quả JSON")
    args = ap.parse_args(argv)
    auth = (args.user, args.password) if args.user and args.password else None
    result = asyncio.run(
        run_load(args.url, args.clients, args.seconds, args.max_requests, args.timeout, auth=auth)
    )
    print(result.summary())
    if result.error_kinds:
        print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(result.error_kinds.items())))
    for ex in result.examples:
        print(f"  - {ex}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(asdict(result), ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if result.errors or result.wrong or result.inconsistent else 0


if __name__ == "__main__":
    sys.exit(main())
