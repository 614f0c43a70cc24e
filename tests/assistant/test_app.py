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
from assistant.app import answer_docx, chat_markdown, copy_text, running, sources_html
from assistant.app_files import EXPORTS_KEPT, ExportFolder
from assistant.app_handlers import plain_error
from assistant.app_render import details_markdown, plain_from_markdown, vi_sort_key
from assistant.citations import make_citation
from assistant.settings import Settings
from assistant.types import Answer, Passage

gradio_client = pytest.importorskip("gradio_client")
from gradio_client.exceptions import AppError  # noqa: E402

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


# What ``/ask`` returns, in order (the State outputs stay on the server).
ASK_RETURNS = ("chat", "box", "sources", "markers", "copy", "download", "status", "details")


def _ask(
    client: Any, question: str, mode: str = "Hỏi đáp", chat: list[Any] | None = None, **kw: Any
) -> dict[str, Any]:
    out = client.predict(
        question, chat or [], mode, kw.get("provinces", []), kw.get("docs", []), api_name="/ask"
    )
    assert len(out) == len(ASK_RETURNS)
    return dict(zip(ASK_RETURNS, out, strict=True))


def test_client_asks_and_gets_figure_and_citation(app_url: str) -> None:
    client = _client(app_url)
    r = _ask(client, QUESTION)
    chat, sources, markers, copy, download = r["chat"], r["sources"], r["markers"], r["copy"], r["download"]
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
    r = _ask(client, "Còn Lạng Sơn?", chat=first["chat"])
    chat, sources, status = r["chat"], r["sources"], r["status"]
    assert len(chat) == 4
    assert "15" in _text(chat[-1])
    assert "Lạng Sơn đào tạo bao nhiêu thạc sỹ?" in status
    assert "Lạng Sơn" in sources and "<mark>" in sources


def test_draft_mode_and_marker_selection(app_url: str) -> None:
    client = _client(app_url)
    r = _ask(
        client,
        "Đề xuất giải pháp nâng cao chất lượng đào tạo, bồi dưỡng cán bộ cấp xã",
        mode="Soạn giải pháp",
    )
    chat, sources, markers, copy = r["chat"], r["sources"], r["markers"], r["copy"]
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
    r = _ask(client, QUESTION, provinces=["Lạng Sơn"])
    assert "935" not in _text(r["chat"][-1])
    # A refusal that comes from the user's own filter: the page says so and offers to search
    # everything; a refusal has nothing to export.
    r = _ask(client, QUESTION, provinces=["Hòa Bình"])
    assert "935" not in _text(r["chat"][-1])
    assert "phạm vi đang lọc (Hòa Bình)" in r["status"] and "Tìm trong mọi tài liệu" in r["status"]
    assert r["download"]["interactive"] is False and not r["download"].get("value")


def test_feedback_is_appended_as_jsonl(app_url: str, app_settings: Settings) -> None:
    client = _client(app_url)
    log = Path(app_settings.feedback_log)
    before = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    _ask(client, QUESTION)
    status, _ = client.predict("", api_name="/feedback_good")
    assert "đúng" in status
    status, comment_box = client.predict("Thiếu số tiến sỹ", api_name="/feedback_bad")
    assert "sai" in status and comment_box == ""  # the comment went with the verdict
    lines = log.read_text(encoding="utf-8").splitlines()[len(before) :]
    entries = [json.loads(x) for x in lines]
    assert [e["verdict"] for e in entries] == ["đúng", "sai"]
    assert [e["comment"] for e in entries] == ["", "Thiếu số tiến sỹ"]
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
        status, _details, table, provinces, docs, _lib_provinces, _deletable, _picker, cleared = (
            client.predict(
                [gradio_client.handle_file(str(good)), gradio_client.handle_file(str(broken))],
                api_name="/ingest",
            )
        )
        assert "Báo cáo Yên Bái 2022.txt" in status
        assert "1 tệp lỗi" in status and "hỏng.docx" in status
        [row] = table["data"]
        [doc] = bot.documents()
        assert row[:6] == [
            "Báo cáo công tác đào tạo, bồi dưỡng cán bộ tỉnh Yên Bái năm 2022",
            "Yên Bái",
            "2022",
            doc.doc_type,
            1,
            "uploads/Báo cáo Yên Bái 2022.txt",
        ]
        assert row[6].startswith("khách@127.0.0.1, ")  # who uploaded it, and when
        assert provinces["choices"] == [["Yên Bái", "Yên Bái"]]
        assert sorted(
            p.name for p in (tmp_path / "corpus" / "uploads").iterdir() if not p.name.startswith(".")
        ) == ["Báo cáo Yên Bái 2022.txt"]
        chat = _ask(client, "Yên Bái cử bao nhiêu cán bộ học tiến sỹ?")["chat"]
        assert "7" in _text(chat[-1])


def test_login_required_when_configured(assistant: Any, app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"auth_user": "canbo", "auth_password": "mật-khẩu-1"})
    with running(assistant, settings) as url:
        assert httpx.get(f"{url}/config").status_code == 401
        assert httpx.post(f"{url}/ask", json={"question": QUESTION}).status_code == 401
        client = _client(url, auth=("canbo", "mật-khẩu-1"))
        chat = _ask(client, QUESTION)["chat"]
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


# -- issue 12: the app an official keeps open -----------------------------------------------------
def test_api_endpoints_have_readable_names(app_url: str) -> None:
    info = _client(app_url).view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {
        "/ask",
        "/stop",
        "/show_source",
        "/feedback_good",
        "/feedback_bad",
        "/ingest",
        "/refresh_documents",
        "/delete_upload",
    } <= set(info)
    for name, ep in info.items():
        labels = [p["label"] for p in ep["parameters"]] + [r["label"] for r in ep["returns"]]
        assert all(label and not label.startswith("value_") for label in labels), (name, labels)
    assert [r["label"] for r in info["/ask"]["returns"]][:3] == ["Trò chuyện", "Câu hỏi", "Nguồn trích dẫn"]


def test_answer_shows_plain_status_and_technical_details_apart(app_url: str) -> None:
    r = _ask(_client(app_url), QUESTION)
    assert r["status"].startswith("Xong sau ")
    assert "Cách trả lời: trích nguyên văn" in r["details"] and "Thời gian:" in r["details"]
    assert "Ghi chú" not in _text(r["chat"][-1]) and "Cách trả lời" not in _text(r["chat"][-1])


def test_provinces_and_documents_in_vietnamese_order(app_url: str) -> None:
    _table, provinces, docs, lib_provinces, _deletable, _picker = _client(app_url).predict(
        "", "", "Tiêu đề", api_name="/refresh_documents"
    )
    names = [c[0] for c in provinces["choices"]]
    # Vietnamese order: "Hải" before "Hòa" (a < o), "Lạng" before "Lào" (n < o) — code points say otherwise.
    assert names == ["Hải Dương", "Hòa Bình", "Lạng Sơn", "Lào Cai", "Nghệ An"]
    assert [c[0] for c in lib_provinces["choices"]] == ["", *names]
    titles = [c[0] for c in docs["choices"]]
    assert titles == sorted(titles, key=vi_sort_key) and len(titles) == 5


def test_vi_sort_key_follows_the_vietnamese_alphabet() -> None:
    words = [
        "Ông Ích",
        "Ô Môn",
        "Đông Anh",
        "Dương Minh",
        "Ân Thi",
        "Ăn Khê",
        "An Nhơn",
        "Ba Vì",
        "Bà Rịa",
        "Bả Kha",
        "Bạch Long",
    ]
    assert sorted(words, key=vi_sort_key) == [
        "An Nhơn",
        "Ăn Khê",
        "Ân Thi",
        "Ba Vì",
        "Bà Rịa",
        "Bả Kha",
        "Bạch Long",
        "Dương Minh",
        "Đông Anh",
        "Ô Môn",
        "Ông Ích",
    ]


def test_library_filters_and_sorts(app_url: str) -> None:
    client = _client(app_url)
    table, *_ = client.predict("", "", "Số đoạn", api_name="/refresh_documents")
    counts = [row[4] for row in table["data"]]
    assert counts == sorted(counts, reverse=True) and len(counts) == 5
    table, *_ = client.predict("hai duong", "", "Tiêu đề", api_name="/refresh_documents")  # no accents
    assert [row[1] for row in table["data"]] == ["Hải Dương"]
    table, *_ = client.predict("", "Nghệ An", "Tiêu đề", api_name="/refresh_documents")
    assert [row[1] for row in table["data"]] == ["Nghệ An"]


def test_ingest_accepts_only_files_this_client_uploaded(app_settings: Settings, tmp_path: Path) -> None:
    """A FileData naming a server path (or another login's upload) is refused with a 403."""
    from assistant.service import Assistant

    # its own corpus AND index: an upload here must not land in the session index other tests read
    settings = app_settings.model_copy(
        update={
            "auth_user": "canbo",
            "auth_password": "mật-khẩu-1",
            "corpus_dir": tmp_path / "corpus",
            "index_dir": tmp_path / "index",
        }
    )
    (tmp_path / "corpus").mkdir()
    assistant = Assistant.from_settings(settings)
    secret = tmp_path / "bí mật.txt"
    secret.write_text("Năm 2021 tỉnh Kon Tum cử 61 cán bộ học thạc sỹ.\n", encoding="utf-8")
    auth = {"username": "canbo", "password": "mật-khẩu-1"}
    with (
        running(assistant, settings) as url,
        httpx.Client(base_url=url) as a,
        httpx.Client(base_url=url) as b,
    ):
        for c in (a, b):  # two separate logins: two clients
            assert c.post("/login", data=auth).status_code == 200
        up = a.post("/gradio_api/upload", files={"files": ("tải lên.txt", secret.read_bytes(), "text/plain")})
        assert up.status_code == 200
        [uploaded] = up.json()

        def call(c: httpx.Client, path: str) -> httpx.Response:
            data = [[{"path": path, "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}]]
            return c.post("/gradio_api/call/ingest", json={"data": data})

        for path in (str(secret), "/etc/hostname", "../../etc/hostname", uploaded):
            r = call(b, path)
            assert r.status_code == 403, (path, r.text)
            assert "không phải do phiên này tải lên" in r.json()["detail"]
        r = b.post(
            "/gradio_api/queue/join",
            json={
                "data": [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}}]],
                "fn_index": 0,
                "session_hash": "abc",
            },
        )
        assert r.status_code == 403
        stored = tmp_path / "corpus" / "uploads"
        assert not [p for p in stored.glob("*") if not p.name.startswith(".")]  # nothing was stored
        r = call(a, uploaded)  # the client that uploaded it may ingest it
        assert r.status_code == 200
        done = a.get(f"/gradio_api/call/ingest/{r.json()['event_id']}", timeout=300)  # wait for it
        assert "event: complete" in done.text
        ingest_status = json.loads(done.text.split("data: ", 1)[1])[0]
        assert ingest_status == "**Đã nạp:** tải lên.txt"


def test_reupload_says_unchanged_and_an_upload_can_be_deleted(tmp_path: Path) -> None:
    from assistant.service import Assistant

    (tmp_path / "corpus").mkdir()
    settings = Settings(
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        feedback_log=tmp_path / "f.jsonl",
        export_dir=tmp_path / "exports",
        llm="none",
    )
    bot = Assistant.from_settings(settings)
    doc = tmp_path / "in" / "Báo cáo Sơn La 2023.txt"
    doc.parent.mkdir()
    doc.write_text(
        "Báo cáo đào tạo, bồi dưỡng cán bộ tỉnh Sơn La năm 2023\n\n"
        "Năm 2023, tỉnh Sơn La đã cử 28 cán bộ học thạc sỹ và mở 11 lớp bồi dưỡng cho cán bộ cấp xã.\n",
        encoding="utf-8",
    )
    with running(bot, settings) as url:
        client = _client(url)
        first = client.predict([gradio_client.handle_file(str(doc))], api_name="/ingest")
        assert "Đã nạp" in first[0]
        again = client.predict([gradio_client.handle_file(str(doc))], api_name="/ingest")
        assert "Không đổi" in again[0] and "Đã nạp" not in again[0]
        # A correction of the document's metadata is stored and re-indexed at once.
        msg, table, *_ = client.predict(
            "uploads/Báo cáo Sơn La 2023.txt",
            "Báo cáo Sơn La (đã sửa)",
            "lai chau",
            "báo cáo",
            "",
            "2023",
            api_name="/save_metadata",
        )
        assert "Đã lưu" in msg
        assert table["data"][0][:4] == ["Báo cáo Sơn La (đã sửa)", "Lai Châu", "2023", "báo cáo"]
        msg, *_ = client.predict(
            "uploads/Báo cáo Sơn La 2023.txt", "", "Xứ Sở Thần Tiên", "", "", "", api_name="/save_metadata"
        )
        assert "không có trong danh sách" in msg and "unknown" not in msg
        deletable = again[6]
        assert [c[0] for c in deletable["choices"]] == ["uploads/Báo cáo Sơn La 2023.txt"]
        msg, *_ = client.predict("uploads/Báo cáo Sơn La 2023.txt", False, api_name="/delete_upload")
        assert "chắc chắn" in msg and (tmp_path / "corpus" / "uploads" / "Báo cáo Sơn La 2023.txt").exists()
        msg, table, *_ = client.predict("uploads/Báo cáo Sơn La 2023.txt", True, api_name="/delete_upload")
        assert "Đã xóa" in msg
        assert [row for row in table["data"] if any(row)] == []
        assert not (tmp_path / "corpus" / "uploads" / "Báo cáo Sơn La 2023.txt").exists()
        with pytest.raises(AppError):  # only a listed upload can be named
            client.predict("../corpus/x.txt", True, api_name="/delete_upload")
        r = _ask(client, "Sơn La cử bao nhiêu cán bộ học thạc sỹ?")
        assert "28" not in _text(r["chat"][-1])


# -- rendering: answers are plain for people, inert for the browser --------------------------------
def test_markdown_in_a_document_stays_text() -> None:
    ans = _hostile_answer()
    ans.answer = "Xem ![ảnh](http://127.0.0.1:9/beacon.gif) và [trang](http://127.0.0.1:9/x) [1]."
    out = chat_markdown(ans)
    assert "![" not in out and "](http" not in out  # no image, no link: only escaped characters
    assert out.endswith("[\\[1\\]](#dtbd-cite-1).")


def test_notes_go_to_details_not_to_the_answer() -> None:
    ans = _hostile_answer()
    ans.notes = ["Bản do mô hình soạn được thay bằng bản trích nguyên văn"]
    assert "Bản do mô hình" not in chat_markdown(ans)
    assert "Ghi chú: Bản do mô hình soạn được thay bằng bản trích nguyên văn" in details_markdown(ans)


def test_copied_bubble_text_has_no_link_syntax() -> None:
    ans = _hostile_answer()
    ans.answer = "Cử 12 cán bộ (năm 2021) [1]."
    assert plain_from_markdown(chat_markdown(ans)) == "Cử 12 cán bộ (năm 2021) [1]."
    assert "#dtbd-cite" not in copy_text(ans) and copy_text(ans).startswith("Cử 12 cán bộ (năm 2021) [1].")


def test_errors_shown_to_people_name_no_exception_class() -> None:
    raw = "hỏng.pdf: không đọc được PDF (PdfStreamError: Stream has ended unexpectedly) / cannot read the PDF"
    assert plain_error(raw) == "hỏng.pdf: không đọc được PDF"
    assert plain_error("rỗng.txt: tệp rỗng (empty file)") == "rỗng.txt: tệp rỗng"


def test_export_folder_keeps_few_files_and_removes_dead_runs(tmp_path: Path) -> None:
    dead = tmp_path / "run-999999999-abcd"  # no such process
    dead.mkdir()
    (dead / "old.docx").write_bytes(b"x")
    exports = ExportFolder(tmp_path)
    assert not dead.exists()
    for i in range(EXPORTS_KEPT + 5):
        exports.new_file(f"{i}.docx").write_bytes(b"x")
    assert len(list(exports.path.glob("*.docx"))) == EXPORTS_KEPT
    exports.close()
    assert not exports.path.exists()


def test_progress_is_shown_while_answering(app_url: str) -> None:
    """Before the answer: a stage line with elapsed seconds, and the documents found fill the panel."""
    job = _client(app_url).submit(QUESTION, [], "Hỏi đáp", [], [], api_name="/ask")
    job.result()
    steps = [dict(zip(ASK_RETURNS, out, strict=True)) for out in job.outputs()]
    assert any(str(s["status"]).startswith("⏳ Đang tìm trong tài liệu") for s in steps)
    found = [s["sources"] for s in steps if "Đã tìm thấy" in str(s["sources"])]
    assert found and "Nghệ An" in found[0] and "<mark>" not in found[0]
    assert "<mark>" in steps[-1]["sources"] and steps[-1]["status"].startswith("Xong sau")
