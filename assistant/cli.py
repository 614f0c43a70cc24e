"""``dtbd`` command line: ingest, ask, eval, ui, serve."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.settings import Settings, get_settings


def _progress_ingest(settings: Settings, paths: list[Path] | None) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.index import IndexError_
    from ingest.pipeline import run_ingest

    console = Console(stderr=True, soft_wrap=True)
    with Progress(
        TextColumn("[bold]Nạp tài liệu[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def tick(i: int, n: int, name: str) -> None:
            bar.update(task, completed=i, total=n, description=name)

        try:
            report = run_ingest(settings, paths, progress=tick)
        except IndexError_ as e:
            console.print(f"[red]Lỗi / error:[/red] {escape(str(e))}", highlight=False)
            return 2
    for err in report.errors:
        console.print(f"[red]Lỗi / error:[/red] {escape(err)}", highlight=False)
    console.print(escape(report.summary()), highlight=False)
    return 1 if report.errors else 0


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = get_settings()
    paths = [Path(p) for p in args.paths] or None
    return _progress_ingest(settings, paths)


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import Assistant

    settings = get_settings()
    bot = Assistant.from_settings(settings, ensure_index=True)
    answer = bot.ask(args.question, mode=args.mode, history=args.history or [])
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.render_text())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.run import main as eval_main

    return eval_main(args)


def cmd_ui(args: argparse.Namespace) -> int:
    from assistant.app import launch

    launch(get_settings())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.api import serve

    serve(get_settings())
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dtbd", description="Trợ lý ĐTBD — hỏi đáp về đào tạo, bồi dưỡng cán bộ")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="nạp tài liệu vào chỉ mục (mặc định: thư mục corpus)")
    ing.add_argument("paths", nargs="*", help="tệp hoặc thư mục; trống = DTBD_CORPUS_DIR")
    ing.set_defaults(func=cmd_ingest)

    ask = sub.add_parser("ask", help="đặt một câu hỏi")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=["qa", "draft", "learn"], default="qa")
    ask.add_argument("--json", action="store_true", help="in một đối tượng JSON")
    ask.add_argument("--history", action="append", help="câu hỏi trước (lặp lại cho nhiều lượt)")
    ask.set_defaults(func=cmd_ask)

    ev = sub.add_parser("eval", help="chạy bộ đánh giá")
    ev.add_argument("--gold", type=Path, default=None)
    ev.add_argument("--json", type=Path, default=None, dest="json_out")
    ev.add_argument("--html", type=Path, default=None, dest="html_out")
    ev.add_argument("--limit", type=int, default=None, help="chỉ chạy N câu đầu")
    ev.add_argument("--modes", default="qa,draft,learn")
    ev.add_argument("--llm", choices=["local", "openai", "none"], default=None, help="ghi đè DTBD_LLM")
    ev.set_defaults(func=cmd_eval)

    ui = sub.add_parser("ui", help="mở ứng dụng trò chuyện (Gradio)")
    ui.set_defaults(func=cmd_ui)

    srv = sub.add_parser("serve", help="chạy HTTP API (FastAPI)")
    srv.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
