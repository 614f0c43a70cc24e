"""``dtbd eval``: run the gold set through the assistant and print/record the scoreboard."""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.modes import MODE_NAMES
from assistant.settings import PROJECT_ROOT, Settings, get_settings
from eval.metrics import (
    DRAFT_THRESHOLDS,
    POINT_THRESHOLDS,
    THRESHOLDS,
    GoldItem,
    ItemResult,
    aggregate,
    gate,
    load_corpus_texts,
    load_gold,
    score_item,
)

GOLD = PROJECT_ROOT / "eval" / "gold.yaml"


def _dedupe(xs: list[str]) -> list[str]:
    return list(dict.fromkeys(xs))


def run_items(
    bot: Any,
    items: list[GoldItem],
    corpus_texts: dict[str, str],
    use_llm: bool | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[ItemResult], list[dict[str, Any]]]:
    """Ask every item; returns scored results and the raw answers (for the report)."""
    results: list[ItemResult] = []
    answers: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if progress:
            progress(i, len(items), item.id)
        t = time.perf_counter()
        ans = bot.ask(item.question, mode=item.mode, history=item.history, use_llm=use_llm)
        data = ans.to_json()
        data.setdefault("timings_ms", {})["total"] = (time.perf_counter() - t) * 1000
        res = score_item(item, data, _dedupe(ans.retrieved_sources), corpus_texts)
        results.append(res)
        answers.append({"id": item.id, "question": item.question, "mode": item.mode, **data})
    return results, answers


def print_table(summary: dict[str, Any], failures: list[str], label: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title=f"Đánh giá Trợ lý ĐTBD — {label} ({summary['n_items']} câu)")
    t.add_column("Chỉ số / metric")
    t.add_column("Giá trị", justify="right")
    t.add_column("Ngưỡng", justify="right")

    def fmt(v: Any) -> str:
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    for name in (
        "figure_accuracy",
        "citation_precision",
        "citation_recall",
        "recall_at_k",
        "mrr",
        "refusal_accuracy",
        "false_refusal_rate",
        "grounding_violations",
        "provinces_ok",
        "bullet_support",
        "point_attribution",
    ):
        th = {**THRESHOLDS, **DRAFT_THRESHOLDS, **POINT_THRESHOLDS}.get(name)
        t.add_row(name, fmt(summary.get(name)), f"{th[0]} {th[1]}" if th else "")
    for mode, lat in summary["latency_ms"].items():
        t.add_row(f"latency {mode} p50/p95 (ms)", f"{fmt(lat['p50'])} / {fmt(lat['p95'])}", "")
    console.print(t)
    kinds = Table(title="Theo loại câu hỏi / by kind")
    kinds.add_column("kind")
    kinds.add_column("đúng/tổng", justify="right")
    for kind, v in summary["by_kind"].items():
        kinds.add_row(kind, f"{v['ok']}/{v['n']}")
    console.print(kinds)
    if failures:
        console.print("[red]KHÔNG ĐẠT NGƯỠNG / gate failed:[/red] " + "; ".join(failures))
    else:
        console.print("[green]Đạt mọi ngưỡng / all thresholds met[/green]")


def write_html(
    path: Path, summary: dict[str, Any], results: list[ItemResult], answers: list[dict[str, Any]], label: str
) -> None:
    """One page a person can read: the metrics, then each failing question with why."""
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(str(v))}</td></tr>"
        for k, v in summary.items()
        if k not in ("by_kind", "failed", "latency_ms")
    )
    lat = "".join(
        f"<tr><td>latency {esc(m)}</td><td>p50 {v['p50']:.0f} ms, p95 {v['p95']:.0f} ms (n={v['n']})</td></tr>"
        for m, v in summary["latency_ms"].items()
        if v["p50"] is not None
    )
    by_id = {a["id"]: a for a in answers}
    fails = []
    for r in results:
        if r.ok:
            continue
        a = by_id[r.id]
        cits = "".join(
            f"<li>[{c['n']}] {esc(c['title'])} — {esc(c['province'])} — {esc(c['source'])} "
            f"[{c['start']}:{c['end']}]<br><q>{esc(c['quote'])}</q></li>"
            for c in a["citations"]
        )
        fails.append(
            f"<section><h3>{esc(r.id)} ({esc(r.kind)}, {esc(r.mode)})</h3>"
            f"<p><b>Câu hỏi:</b> {esc(a['question'])}</p>"
            f"<p><b>Lý do:</b> {esc('; '.join(r.reasons))}</p>"
            f"<p><b>Trả lời</b> ({'từ chối' if a['refused'] else esc(a.get('path', ''))}):</p>"
            f"<pre>{esc(a['answer'])}</pre><ol>{cits}</ol></section>"
        )
    page = f"""<!doctype html><html lang="vi"><meta charset="utf-8">
<title>Đánh giá Trợ lý ĐTBD — {esc(label)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:auto}}td{{padding:2px 8px}}
section{{border-top:1px solid #ccc;margin-top:1em}}pre{{white-space:pre-wrap;background:#f6f6f6;padding:.5em}}</style>
<h1>Đánh giá Trợ lý ĐTBD — {esc(label)}</h1>
<table>{rows}{lat}</table>
<h2>Câu chưa đạt ({len(fails)})</h2>{"".join(fails) or "<p>Không có.</p>"}
</html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


def main(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from assistant.service import Assistant
    from ingest.index import IndexError_

    settings: Settings = get_settings()
    if getattr(args, "llm", None):
        settings = settings.model_copy(update={"llm": args.llm})
    items = load_gold(args.gold or GOLD)
    modes = set(str(getattr(args, "modes", None) or ",".join(MODE_NAMES)).split(","))
    items = [i for i in items if i.mode in modes]
    if getattr(args, "limit", None):
        items = items[: args.limit]
    try:
        bot = Assistant.from_settings(settings, require_documents=True)
    except IndexError_ as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return 2
    texts = load_corpus_texts(settings.corpus_dir)
    with Progress(transient=True) as bar:
        task = bar.add_task("eval", total=len(items))
        results, answers = run_items(
            bot, items, texts, progress=lambda i, n, _: bar.update(task, completed=i)
        )
    summary = aggregate(results)
    summary["backend"] = settings.llm
    failures = gate(summary)
    label = f"DTBD_LLM={settings.llm}"
    print_table(summary, failures, label)
    if getattr(args, "json_out", None):
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(
            json.dumps(
                {"summary": summary, "results": [r.to_dict() for r in results], "answers": answers},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    if getattr(args, "html_out", None):
        write_html(args.html_out, summary, results, answers, label)
    return 1 if failures else 0
