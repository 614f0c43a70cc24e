"""Chroma client/server: ``DTBD_CHROMA_URL`` switches to ``chromadb.HttpClient``.

A real ``chroma run`` server is started on 127.0.0.1 over a temp path; the real corpus is
ingested through it, questions are answered through it, the server is stopped (SIGTERM) and
started again over the same path, and everything is still there and answers the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from ingest.pipeline import IngestReport
from tests.scale import (
    LAO_CAI_Q,
    LAO_CAI_SOURCE,
    NGHE_AN_Q,
    NGHE_AN_SOURCE,
    ChromaServer,
    index_problems,
    settings_for,
    vector_index,
)


@dataclass
class Served:
    server: ChromaServer
    settings: Settings
    report: IngestReport


def _snapshot(settings: Settings) -> dict[str, Any]:
    vectors = vector_index(settings)
    rows = {cid: (doc, meta) for cid, doc, meta, _ in vectors.iter_all()}
    return {"count": vectors.count(), "rows": rows, "name": vectors.name}


def _ask(settings: Settings, question: str) -> Any:
    from assistant.service import Assistant

    return Assistant.from_settings(settings).ask(question)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module, the real corpus ingested through it; always stopped."""
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "chroma-data", log=root / "chroma.log")
    server.start()
    try:
        settings = settings_for(root / "index", chroma_url=server.url)
        report = run_ingest(settings)
        yield Served(server, settings, report)
    finally:
        server.stop()


def test_ingest_goes_through_the_server(served: Served) -> None:
    r = served.report
    assert not r.errors, r.errors
    assert r.docs_added == 5 and r.chunks_added > 0 and r.chunks_total == r.chunks_added
    # The HTTP client was used: the server's path holds the data, no embedded store was made.
    assert (served.server.path / "chroma.sqlite3").is_file()
    assert not (Path(served.settings.index_dir) / "chroma").exists()
    # The lexical index (derived from Chroma) lives in index_dir, beside nothing else.
    assert (Path(served.settings.index_dir) / "lexical" / "manifest.json").is_file()
    assert index_problems(served.settings) == []


def test_answers_through_the_server(served: Served) -> None:
    ans = _ask(served.settings, NGHE_AN_Q)
    assert not ans.refused and "935" in ans.answer, ans.answer
    assert ans.citations and ans.citations[0].source == NGHE_AN_SOURCE
    ans = _ask(served.settings, LAO_CAI_Q)
    assert "50,4%" in ans.answer and ans.citations[0].source == LAO_CAI_SOURCE, ans.answer
    ans = _ask(
        served.settings, "Quảng Trị đã đào tạo bao nhiêu cán bộ lãnh đạo, quản lý giai đoạn 2015-2020?"
    )
    assert ans.refused, ans.answer


def test_restart_keeps_everything(served: Served) -> None:
    from ingest.pipeline import run_ingest

    before = _snapshot(served.settings)
    answer_before = _ask(served.settings, NGHE_AN_Q).to_json()
    assert before["count"] == served.report.chunks_total

    served.server.stop()
    served.server.start()

    after = _snapshot(served.settings)
    assert after["count"] == before["count"]
    assert after["rows"].keys() == before["rows"].keys()
    assert after["rows"] == before["rows"]  # documents and metadata byte for byte
    answer_after = _ask(served.settings, NGHE_AN_Q).to_json()
    for key in ("answer", "citations", "refused", "path"):
        assert answer_after[key] == answer_before[key]

    # A second ingest through the restarted server finds everything complete: writes nothing.
    again = run_ingest(served.settings)
    assert not again.errors, again.errors
    assert (again.docs_added, again.docs_updated, again.docs_removed) == (0, 0, 0)
    assert again.docs_skipped == 5 and again.chunks_added == 0 and again.chunks_removed == 0
    assert not again.lexical_rebuilt
    assert again.chunks_total == before["count"]


def test_server_down_during_questions(served: Served) -> None:
    """The server going away mid-service: a question either still gets its answer from the
    local lexical index, or fails with IndexError_ naming the server; never a raw transport
    exception. Once the server is back, answers come back without restarting the assistant."""
    from assistant.service import Assistant
    from ingest.index import IndexError_

    bot = Assistant.from_settings(served.settings)
    assert "935" in bot.ask(NGHE_AN_Q).answer
    served.server.stop()
    try:
        try:
            ans = bot.ask(NGHE_AN_Q)
        except IndexError_ as e:
            assert served.server.url in str(e) or str(served.server.port) in str(e), str(e)
        else:
            assert "935" in ans.answer and ans.citations[0].source == NGHE_AN_SOURCE, ans.answer
    finally:
        served.server.start()
    ans = bot.ask(NGHE_AN_Q)
    assert "935" in ans.answer and ans.citations[0].source == NGHE_AN_SOURCE


def test_server_down_is_a_clear_error(tmp_path: Path) -> None:
    """Ingest against a URL where no server listens fails in words, naming the index."""
    from ingest.index import IndexError_
    from ingest.pipeline import run_ingest
    from tests.scale import free_port

    settings = settings_for(tmp_path / "index", chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IndexError_) as ei:
        run_ingest(settings)
    msg = str(ei.value)
    assert "Không mở được chỉ mục" in msg and "cannot open the index" in msg
    assert not (tmp_path / "index" / "chroma").exists()


def test_chroma_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The switch is the environment variable alone (what a site sets)."""
    monkeypatch.setenv("DTBD_CHROMA_URL", "http://127.0.0.1:8123")
    assert Settings().chroma_url == "http://127.0.0.1:8123"
    monkeypatch.delenv("DTBD_CHROMA_URL")
    assert os.environ.get("DTBD_CHROMA_URL") is None and Settings(_env_file=None).chroma_url is None  # type: ignore[call-arg]
