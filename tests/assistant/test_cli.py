"""``dtbd`` as a person runs it: real processes, a real index, a real server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings

QUESTION = "Nghệ An đào tạo bao nhiêu thạc sỹ?"
DTBD = [sys.executable, "-m", "assistant.cli"]


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DTBD_")}
    env.update(
        DTBD_CORPUS_DIR=str(settings.corpus_dir),
        DTBD_INDEX_DIR=str(settings.index_dir),
        DTBD_LLM="none",
        **extra,
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(assistant: Any, corpus_settings: Settings) -> Iterator[str]:
    """The HTTP API over the session index, served by uvicorn on a free loopback port."""
    import uvicorn

    from assistant.api import create_api

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_api(assistant, corpus_settings), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DTBD, *args], env=env, capture_output=True, text=True, timeout=600)


def test_blank_question_is_a_vietnamese_error_not_a_traceback(corpus_settings: Settings) -> None:
    r = _run(["ask", "   "], _env(corpus_settings))
    assert r.returncode == 2
    assert "câu hỏi trống" in r.stderr and "Traceback" not in r.stderr


def test_an_empty_index_says_which_command_builds_it(tmp_path: Path, corpus_settings: Settings) -> None:
    empty = corpus_settings.model_copy(update={"index_dir": tmp_path / "index"})
    r = _run(["ask", QUESTION, "--local"], _env(empty))
    assert r.returncode == 2, r.stdout
    assert "dtbd ingest" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "index" / "lexical").exists() or not any((tmp_path / "index" / "lexical").iterdir())


def test_ask_through_a_running_server_gives_the_in_process_answer(
    server: str, assistant: Any, corpus_settings: Settings
) -> None:
    r = _run(["ask", QUESTION, "--json", "--url", server], _env(corpus_settings))
    assert r.returncode == 0, r.stderr
    via_server = json.loads(r.stdout)
    local = assistant.ask(QUESTION).to_json()
    for key in ("answer", "refused", "mode", "citations"):
        assert via_server[key] == local[key]
    assert "935" in via_server["answer"]


def test_a_server_on_the_default_port_is_used_only_for_the_same_index(
    server: str, tmp_path: Path, corpus_settings: Settings
) -> None:
    port = server.rsplit(":", 1)[1]
    # same index: the server answers (its /health names the same index_id)
    same = _run(["ask", QUESTION, "--json"], _env(corpus_settings, DTBD_PORT=port))
    assert same.returncode == 0, same.stderr
    assert "935" in json.loads(same.stdout)["answer"]
    # another (empty) index: the server's answer is not used; the local, empty index is reported
    other = corpus_settings.model_copy(update={"index_dir": tmp_path / "other"})
    r = _run(["ask", QUESTION, "--json"], _env(other, DTBD_PORT=port))
    assert r.returncode == 2 and "dtbd ingest" in r.stderr, (r.stdout, r.stderr)


def test_an_unreachable_url_is_a_clear_error(corpus_settings: Settings) -> None:
    r = _run(["ask", QUESTION, "--url", f"http://127.0.0.1:{_free_port()}"], _env(corpus_settings))
    assert r.returncode == 2
    assert "không gọi được máy chủ" in r.stderr and "Traceback" not in r.stderr


def test_help_lists_the_registry_s_modes_and_the_eval_plugin(corpus_settings: Settings) -> None:
    from assistant.modes import MODE_NAMES

    r = _run(["ask", "--help"], _env(corpus_settings))
    assert r.returncode == 0
    for name in MODE_NAMES:
        assert name in r.stdout
    top = _run(["--help"], _env(corpus_settings))
    assert "eval" in top.stdout  # added through the dtbd.commands entry point, not imported by the CLI


def test_metadata_is_set_at_ingest_and_corrected_afterwards(tmp_path: Path) -> None:
    from assistant.cli import META_OPTIONS
    from assistant.service import Assistant
    from ingest.corpus import EDITABLE_FIELDS

    assert set(META_OPTIONS) == set(EDITABLE_FIELDS)  # the CLI offers exactly what can be stored
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    doc = corpus / "bao-cao.txt"
    doc.write_text(
        "Báo cáo kết quả bồi dưỡng năm 2021\n\nNăm 2021 mở 9 lớp trung cấp lý luận chính trị cho 640 học viên.\n",
        encoding="utf-8",
    )
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", llm="none", feedback_log=tmp_path / "f")
    r = _run(["ingest", str(doc), "--province", "ha giang", "--title", "Báo cáo bồi dưỡng 2021"], _env(settings))
    assert r.returncode == 0, r.stderr
    [info] = Assistant.from_settings(settings).documents()
    assert (info.province, info.title) == ("Hà Giang", "Báo cáo bồi dưỡng 2021")

    bad = _run(["meta", str(doc), "--date", "31/02/2021"], _env(settings))
    assert bad.returncode == 2 and "date" in bad.stderr and "Traceback" not in bad.stderr

    r = _run(["meta", str(doc), "--province", "Tuyên Quang", "--doc-type", "báo cáo"], _env(settings))
    assert r.returncode == 0, r.stderr
    [info] = Assistant.from_settings(settings).documents()
    assert (info.province, info.doc_type, info.title) == ("Tuyên Quang", "báo cáo", "Báo cáo bồi dưỡng 2021")
