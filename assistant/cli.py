"""``dtbd`` command line: ingest, ask, ui, serve — and commands other packages add.

Other packages add subcommands through the ``dtbd.commands`` entry-point group (a function
that receives argparse's subparsers), the way ``eval`` adds ``dtbd eval``; the built-ins use
plain functions. Heavy libraries are imported inside the command that needs them, so
``dtbd --help`` is instant, and ``dtbd ask`` asks a running ``dtbd serve`` / ``dtbd ui``
when one answers (``--url``, or the default port) before loading the whole stack itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.modes import MODE_NAMES

if TYPE_CHECKING:
    from assistant.settings import Settings

PLUGIN_GROUP = "dtbd.commands"
PROBE_TIMEOUT_S = 0.5  # a running server on loopback answers /health well within this
ASK_TIMEOUT_S = 600.0  # an LLM draft on 2 cores can take minutes


def _settings() -> Settings:
    from assistant.settings import get_settings

    return get_settings()


def _error(message: str) -> int:
    print(f"Lỗi: {message}", file=sys.stderr)
    return 2


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


def _meta_fields(args: argparse.Namespace) -> dict[str, str]:
    """The metadata options given on the command line (title, province, type, date, period, body)."""
    return {k: v for k in META_OPTIONS if (v := getattr(args, k, None)) is not None}


def _write_meta(paths: list[Path], fields: dict[str, str]) -> str | None:
    """Store corrections in each file's sidecar; the error message (naming the field) or None."""
    from ingest.corpus import MetaError, write_sidecar

    try:
        for path in paths:
            if not path.is_file():
                return f"không có tệp {path} / no such file"
            write_sidecar(path, fields)
    except MetaError as e:
        return str(e)
    return None


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.uploads import recover_uploads

    settings = _settings()
    recover_uploads(settings.corpus_dir)  # a killed upload's half-saved files are rolled back first
    paths = [Path(p) for p in args.paths] or None
    fields = _meta_fields(args)
    if fields:
        if not paths or any(p.is_dir() for p in paths):
            return _error("thông tin tài liệu (--title, --province …) chỉ dùng với tên tệp cụ thể")
        if (problem := _write_meta(paths, fields)) is not None:
            return _error(problem)
    return _progress_ingest(settings, paths)


def cmd_meta(args: argparse.Namespace) -> int:
    """Correct a document's title, province, type, date …: written to its sidecar, then re-indexed."""
    fields = _meta_fields(args)
    if not fields:
        return _error("hãy cho biết điều cần sửa, ví dụ: dtbd meta TỆP --province \"Nghệ An\"")
    path = Path(args.path)
    if (problem := _write_meta([path], fields)) is not None:
        return _error(problem)
    return _progress_ingest(_settings(), [path])


def render_text(data: dict[str, Any]) -> str:
    """An answer object (``Answer.to_json()``) as a person reads it in a terminal."""
    lines = [data["answer"], ""]
    for c in data.get("citations", []):
        where = f" — {c['locator']}" if c.get("locator") else ""
        lines.append(f"[{c['n']}] {c['title']} — {c['province']} — {c['source']} [{c['start']}:{c['end']}]{where}")
        lines.append(f"    «{c['quote']}»")
    return "\n".join(lines).rstrip()


def _call(url: str, body: dict[str, Any] | None, settings: Settings, timeout: float) -> dict[str, Any]:
    """One JSON request with the standard library (importing an HTTP client costs more than the
    request itself on a warm loopback server); HTTP errors raise ``urllib.error.HTTPError``."""
    import base64
    import urllib.request

    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.auth_user and settings.auth_password:
        pair = f"{settings.auth_user}:{settings.auth_password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (a URL the user gave, or loopback)
        out: dict[str, Any] = json.loads(r.read().decode("utf-8"))
    return out


def _ask_server(url: str, body: dict[str, Any], settings: Settings, required: bool) -> dict[str, Any] | None:
    """The answer from a running server, or None when none answers there (and ``required`` is off).

    A server found on the default port is used only when it serves this same index (its
    ``/health`` names the index by ``index_id``): another corpus's answers are never printed.
    """
    import urllib.error

    base = url.rstrip("/")
    try:
        health = _call(f"{base}/health", None, settings, PROBE_TIMEOUT_S)
    except (OSError, ValueError) as e:
        if required:
            raise RuntimeError(f"không gọi được máy chủ {base}: {e}") from e
        return None
    if not required and health.get("index_id") != settings.index_id():
        return None
    try:
        return _call(f"{base}/ask", body, settings, ASK_TIMEOUT_S)
    except urllib.error.HTTPError as e:
        try:
            detail = json.loads(e.read().decode("utf-8")).get("detail", "")
        except ValueError:
            detail = ""
        raise RuntimeError(f"máy chủ {base} trả lỗi {e.code}: {detail or e.reason}") from e
    except (OSError, ValueError) as e:
        raise RuntimeError(f"không gọi được máy chủ {base}: {e}") from e


def cmd_ask(args: argparse.Namespace) -> int:
    question = (args.question or "").strip()
    if not question:
        return _error("câu hỏi trống — hãy nhập một câu hỏi, ví dụ: dtbd ask \"Nghệ An đào tạo bao nhiêu thạc sỹ?\"")
    settings = _settings()
    body = {"question": question, "mode": args.mode, "history": args.history or []}
    data: dict[str, Any] | None = None
    if not args.local:
        url = args.url or f"http://127.0.0.1:{settings.port}"
        try:
            data = _ask_server(url, body, settings, required=bool(args.url))
        except RuntimeError as e:
            return _error(str(e))
    if data is None:
        from assistant.service import Assistant
        from ingest.index import IndexError_

        try:
            bot = Assistant.from_settings(settings, require_documents=True)
            data = bot.ask(question, mode=args.mode, history=args.history or []).to_json()
        except IndexError_ as e:
            return _error(str(e))
        except ValueError as e:
            return _error(str(e))
    print(json.dumps(data, ensure_ascii=False) if args.json else render_text(data))
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from assistant.app import launch

    launch(_settings())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.api import serve

    serve(_settings())
    return 0


# Metadata a user may set or correct: option -> help. Stored in the file's .meta.yaml sidecar.
META_OPTIONS: dict[str, str] = {
    "title": "tiêu đề",
    "province": "tỉnh (tên cũ hoặc mới, có hoặc không dấu; \"Trung ương\" cho văn bản trung ương)",
    "doc_type": "loại văn bản (quyết định, kế hoạch, báo cáo, bài báo …)",
    "date": "ngày ban hành (yyyy-mm-dd hoặc dd/mm/yyyy)",
    "period": "giai đoạn (yyyy hoặc yyyy-yyyy)",
    "issuing_body": "cơ quan ban hành",
}


def _add_meta_options(p: argparse.ArgumentParser) -> None:
    for name, help_ in META_OPTIONS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None, help=help_)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dtbd", description="Trợ lý ĐTBD — hỏi đáp về đào tạo, bồi dưỡng cán bộ")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="nạp tài liệu vào chỉ mục (mặc định: thư mục corpus)")
    ing.add_argument("paths", nargs="*", help="tệp hoặc thư mục; trống = DTBD_CORPUS_DIR")
    _add_meta_options(ing)
    ing.set_defaults(func=cmd_ingest)

    meta = sub.add_parser("meta", help="sửa thông tin một tài liệu (tiêu đề, tỉnh, loại, ngày …) rồi nạp lại")
    meta.add_argument("path", help="tệp tài liệu (trong thư mục corpus)")
    _add_meta_options(meta)
    meta.set_defaults(func=cmd_meta)

    ask = sub.add_parser("ask", help="đặt một câu hỏi")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=MODE_NAMES, default="qa")
    ask.add_argument("--json", action="store_true", help="in một đối tượng JSON")
    ask.add_argument("--history", action="append", help="câu hỏi trước (lặp lại cho nhiều lượt)")
    ask.add_argument("--url", default=None, help="hỏi máy chủ đang chạy ở địa chỉ này (vd. http://127.0.0.1:7860)")
    ask.add_argument("--local", action="store_true", help="không hỏi máy chủ, tự mở chỉ mục")
    ask.set_defaults(func=cmd_ask)

    ui = sub.add_parser("ui", help="mở ứng dụng trò chuyện (Gradio)")
    ui.set_defaults(func=cmd_ui)

    srv = sub.add_parser("serve", help="chạy HTTP API (FastAPI)")
    srv.set_defaults(func=cmd_serve)

    for ep in entry_points(group=PLUGIN_GROUP):  # e.g. eval.run:register adds `dtbd eval`
        ep.load()(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
