"""``dtbd eval``, added to the CLI through the ``dtbd.commands`` entry point.

Kept apart from ``eval.run`` so that registering the command costs nothing: ``dtbd ask`` and
``dtbd --help`` load this file, not the gold-set machinery, which ``dtbd eval`` imports when run.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assistant.modes import MODE_NAMES


def register(sub: Any) -> None:
    """Adds ``dtbd eval`` to the CLI's subcommands."""
    ev = sub.add_parser("eval", help="chạy bộ đánh giá")
    add_arguments(ev)
    ev.set_defaults(func=_main)


def add_arguments(ev: argparse.ArgumentParser) -> None:
    ev.add_argument("--gold", type=Path, default=None)
    ev.add_argument("--json", type=Path, default=None, dest="json_out")
    ev.add_argument("--html", type=Path, default=None, dest="html_out")
    ev.add_argument("--limit", type=int, default=None, help="chỉ chạy N câu đầu")
    ev.add_argument("--modes", default=",".join(MODE_NAMES))
    ev.add_argument("--llm", choices=["local", "openai", "none"], default=None, help="ghi đè DTBD_LLM")


def _main(args: argparse.Namespace) -> int:
    from eval.run import main

    return main(args)


if __name__ == "__main__":  # python -m eval.command: the same as `dtbd eval`
    import sys

    parser = argparse.ArgumentParser(prog="python -m eval.command", description="Đánh giá Trợ lý ĐTBD")
    add_arguments(parser)
    sys.exit(_main(parser.parse_args()))
