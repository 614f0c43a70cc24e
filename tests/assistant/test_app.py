"""The Gradio app, served for real on a free 127.0.0.1 port and driven by ``gradio_client``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.api import BindRefused
from assistant.app import answer_docx, chat_markdown, running, sources_html
from assistant.citations import make_citation
from assistant.settings import Settings
from assistant.types import Answer, Passage

gradio_client = pytest.importorskip("gradio_client")

QUESTION = "Nghệ An đào tạo bao nhiêu thạc sỹ?"


@pytest.fixture(scope="module")
def app_settings(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return corpus_settings.model_copy(
        update={"feedback_log": tmp_path_factory.mktemp("app") / "log" / "feedback.jsonl"}
    )


@pytest.fixture(scope="module")
def app_url(assistant: Any, app_settings: Settings) -> Iterator[str]:
    with running(assistant, app_settings) as url:
        yield url


def _client(url: str, **kw: Any) -> Any:
    return gradio_client.Client(url, verbose=False, **kw)


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _ask(client: Any, question: str, mode: str = "Hỏi đáp", chat: list[Any] | None = None, **kw: Any) -> Any:
    return client.predict(
        question, chat or [], mode, kw.get("provinces", []), kw.get("docs", []), api_name="/ask"
    )


def test_client_asks_and_gets_figure_and_citation(app_url: str) -> None:
    client = _client(app_url)
    chat, _box, sources, markers, copy, download, status = _ask(client, QUESTION)
    assert [m["role"] for m in chat] == ["user", "assistant"]
    answer = _text(chat[-1])
    assert "935" in answer
    assert "[\\[1\\]](#dtbd-cite-1)" in answer  # the marker links to its source card
    assert re.search(r"<mark>[^<]*\b935 cán bộ học thạc sỹ[^<]*</mark>", sources)
    assert "Nghệ An" in sources and "Kết luận của Ban Thường vụ Tỉnh ủy" in sources
    assert 'id="dtbd-cite-1"' in sources and " open>" in sources
    assert markers["choices"] == [["[1]", 1]] and markers["value"] == 1
    assert "Nguồn trích dẫn:" in copy and "[1] Kết luận" in copy
    assert re.search(r"«[^»]*935 cán bộ học thạc sỹ[^»]*»", copy)
    docx_path = Path(download["value"])
    assert download["interactive"] is True and docx_path.suffix == ".docx"

    from docx import Document

    paragraphs = [p.text for p in Document(str(docx_path)).paragraphs]
    assert any("935" in p and "[1]" in p for p in paragraphs)
    assert "Nguồn trích dẫn" in paragraphs
    assert any(
        p.startswith("[1] Kết luận") and "Nghệ An" in p and re.search("«[^»]*935", p) for p in paragraphs
    )


def test_conversation_memory_resolves_a_follow_up(app_url: str) -> None:
    client = _client(app_url)
    first = _ask(client, QUESTION)
    chat, _, sources, _, _, _, status = _ask(client, "Còn Lạng Sơn?", chat=first[0])
    assert len(chat) == 4
    assert "15" in _text(chat[-1])
    assert "Lạng Sơn đào tạo bao nhiêu thạc sỹ?" in status
    assert "Lạng Sơn" in sources and "<mark>" in sources


def test_draft_mode_and_marker_selection(app_url: str) -> None:
    client = _client(app_url)
    chat, _, sources, markers, copy, download, _ = _ask(
        client,
        "Đề xuất giải pháp nâng cao chất lượng đào tạo, bồi dưỡng cán bộ cấp xã",
        mode="Soạn giải pháp",
    )
    answer = _text(chat[-1])
    assert answer.startswith("Trên cơ sở kinh nghiệm của")
    n = len(markers["choices"])
    assert n >= 2
    assert sources.count('<details class="dtbd-cite"') == n and sources.count(" open>") == 1
    second = client.predict(2, api_name="/show_source")
    opened = second.split(" open>")[0].rsplit("<details", 1)[1]
    assert 'id="dtbd-cite-2"' in opened
    assert second.count("<mark>") == n
    assert f"[{n}] " in copy


def test_filters_restrict_the_search(app_url: str) -> None:
    client = _client(app_url)
    chat, *_ = _ask(client, QUESTION, provinces=["Lạng Sơn"])
    assert "935" not in _text(chat[-1])


def test_feedback_is_appended_as_jsonl(app_url: str, app_settings: Settings) -> None:
    client = _client(app_url)
    log = Path(app_settings.feedback_log)
    before = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    _ask(client, QUESTION)
    assert "đúng" in client.predict(api_name="/feedback_good")
    assert "sai" in client.predict(api_name="/feedback_bad")
    lines = log.read_text(encoding="utf-8").splitlines()[len(before) :]
    entries = [json.loads(x) for x in lines]
    assert [e["verdict"] for e in entries] == ["đúng", "sai"]
    e = entries[0]
    assert {"ts", "question", "answer", "citations", "verdict", "mode"} <= e.keys()
    assert e["question"] == QUESTION and e["mode"] == "qa" and "935" in e["answer"]
    assert "935 cán bộ học thạc sỹ" in e["citations"][0]["quote"]
    assert e["citations"][0]["province"] == "Nghệ An"


def test_upload_box_ingests_and_refreshes(tmp_path: Path) -> None:
    """Upload through the app into its own small index; errors are reported per file."""
    from assistant.service import Assistant

    (tmp_path / "corpus").mkdir()
    settings = Settings(
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        feedback_log=tmp_path / "f.jsonl",
        llm="none",
    )
    bot = Assistant.from_settings(settings)
    good = tmp_path / "in" / "Báo cáo Yên Bái 2022.txt"
    good.parent.mkdir()
    good.write_text(
        "Báo cáo công tác đào tạo, bồi dưỡng cán bộ tỉnh Yên Bái năm 2022\n\n"
        "Năm 2022, tỉnh Yên Bái đã cử 43 cán bộ học thạc sỹ và 7 cán bộ học tiến sỹ; tổ chức 15 lớp bồi dưỡng "
        "kiến thức quản lý nhà nước cho cán bộ, công chức cấp xã.\n",
        encoding="utf-8",
    )
    broken = tmp_path / "in" / "hỏng.docx"
    broken.write_bytes(b"PK\x03\x04 not a real docx")
    with running(bot, settings) as url:
        client = _client(url)
        status, table, provinces, docs, cleared = client.predict(
            [gradio_client.handle_file(str(good)), gradio_client.handle_file(str(broken))], api_name="/ingest"
        )
        assert "Báo cáo Yên Bái 2022.txt" in status
        assert "1 tệp lỗi" in status and "hỏng.docx" in status
        assert table["data"] == [
            [
                "Báo cáo công tác đào tạo, bồi dưỡng cán bộ tỉnh Yên Bái năm 2022",
                "Yên Bái",
                "2022",
                "",
                1,
                "uploads/Báo cáo Yên Bái 2022.txt",
            ]
        ]
        assert provinces["choices"] == [["Yên Bái", "Yên Bái"]]
        assert sorted(p.name for p in (tmp_path / "corpus" / "uploads").iterdir()) == [
            "Báo cáo Yên Bái 2022.txt"
        ]
        chat, *_ = _ask(client, "Yên Bái cử bao nhiêu cán bộ học tiến sỹ?")
        assert "7" in _text(chat[-1])


def test_login_required_when_configured(assistant: Any, app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"auth_user": "canbo", "auth_password": "mật-khẩu-1"})
    with running(assistant, settings) as url:
        assert httpx.get(f"{url}/config").status_code == 401
        assert httpx.post(f"{url}/ask", json={"question": QUESTION}).status_code == 401
        client = _client(url, auth=("canbo", "mật-khẩu-1"))
        chat, *_ = _ask(client, QUESTION)
        assert "935" in _text(chat[-1])
        r = httpx.post(f"{url}/ask", json={"question": QUESTION}, auth=("canbo", "mật-khẩu-1"))
        assert r.status_code == 200 and "935" in r.json()["answer"]


def test_refuses_to_listen_beyond_loopback_without_login(assistant: Any, app_settings: Settings) -> None:
    with pytest.raises(BindRefused), running(assistant, app_settings, host="0.0.0.0"):
        pass


def test_api_is_mounted_beside_the_ui(app_url: str) -> None:
    r = httpx.post(f"{app_url}/ask", json={"question": QUESTION})
    assert r.status_code == 200 and "935" in r.json()["answer"]
    assert httpx.get(f"{app_url}/documents").json()["total"] == 5
    assert "/ask" in httpx.get(f"{app_url}/openapi.json").json()["paths"]
    assert "Trợ lý ĐTBD" in httpx.get(app_url + "/").text


# -- rendering: documents are data, never markup ------------------------------------------------------
def _hostile_answer() -> Answer:
    text = (
        "Mở đầu <b>đậm</b> & <script>window.__xss=1</script> rồi cử 12 cán bộ <img src=x onerror=alert(1)>."
    )
    p = Passage(
        chunk_id="c1",
        doc_id="d<1>",
        source="uploads/x.txt",
        title='Tài liệu <script>alert("t")</script>',
        province="Hà <i>Giang</i>",
        period="2021",
        doc_type="",
        section='Mục "1" <hr>',
        start=100,
        end=100 + len(text),
        text=text,
        index_text=text,
    )
    s = 100 + text.index("<script>")
    cit = make_citation(1, p, s, s + len("<script>window.__xss=1</script>"))
    return Answer(
        answer="Hà Giang: <script>x</script> [1] [7].", refused=False, mode="draft", citations=[cit]
    )


def test_sources_html_escapes_everything_and_marks_the_span() -> None:
    out = sources_html(_hostile_answer())
    assert "<script" not in out and "<img" not in out and "<b>" not in out and "<i>" not in out
    assert "<mark>&lt;script&gt;window.__xss=1&lt;/script&gt;</mark>" in out
    assert "Tài liệu &lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in out
    assert "Hà &lt;i&gt;Giang&lt;/i&gt;" in out and "Mục &quot;1&quot; &lt;hr&gt;" in out


def test_chat_markdown_escapes_and_links_only_known_markers() -> None:
    out = chat_markdown(_hostile_answer())
    assert "<script>" not in out and "&lt;script&gt;x&lt;/script&gt;" in out
    assert "[\\[1\\]](#dtbd-cite-1)" in out and "[7]" in out and "dtbd-cite-7" not in out


def test_docx_export_lists_citations(tmp_path: Path) -> None:
    from docx import Document

    ans = _hostile_answer()
    ans.question = "Câu hỏi \x07 thử"
    path = answer_docx(ans, tmp_path / "out.docx")
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert texts[0] == "Bản soạn giải pháp"
    assert "Câu hỏi: Câu hỏi  thử" in texts
    assert any(
        t.startswith("[1] Tài liệu <script>") and "«<script>window.__xss=1</script>»" in t for t in texts
    )
