"""The chat app (Gradio): streaming answers, three modes, sources with the cited span highlighted.

``dtbd ui`` calls :func:`launch`, which serves the Gradio app at ``/`` and the HTTP API of
:mod:`assistant.api` (``/ask``, ``/documents``, ``/ingest``, ``/health``, ``/docs``) beside it on
``settings.host:settings.port``. Every string that comes from a document is HTML-escaped before
it reaches the page: a document containing ``<script>`` shows it as text.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI

from assistant.api import (
    MAX_QUESTION_CHARS,
    UPLOAD_SUFFIXES,
    auth_pair,
    check_bind,
    create_api,
    ingest_uploads,
)
from assistant.settings import Settings
from assistant.types import Answer, Citation

MODE_LABELS: dict[str, str] = {"Hỏi đáp": "qa", "Soạn giải pháp": "draft", "Tìm hiểu": "learn"}
MODE_TITLES: dict[str, str] = {"qa": "Câu trả lời", "draft": "Bản soạn giải pháp", "learn": "Tìm hiểu"}
HISTORY_TURNS = 6
EXAMPLES = [
    "Nghệ An đào tạo bao nhiêu thạc sỹ?",
    "Đề xuất giải pháp nâng cao chất lượng đào tạo, bồi dưỡng cán bộ cấp xã",
    "ĐTBD là gì?",
]
_MARKER = re.compile(r"\[(\d{1,2})\]")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

SOURCES_CSS = """
.dtbd-empty { color: var(--body-text-color-subdued); padding: 8px 0; }
.dtbd-cite { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 0 0 8px 0; }
.dtbd-cite[open] { border-color: #d97706; box-shadow: 0 0 0 1px #d97706; }
.dtbd-cite summary { cursor: pointer; line-height: 1.4; }
.dtbd-n { display: inline-block; min-width: 2.2em; font-weight: 700; color: #b45309; }
.dtbd-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 4px 0; }
.dtbd-quote { font-style: italic; margin: 2px 0 4px 0; }
.dtbd-passage { white-space: pre-wrap; line-height: 1.55; font-size: 0.95em; max-height: 22em; overflow: auto; }
.dtbd-passage mark { background: #fde68a; color: #111; padding: 0 2px; border-radius: 2px; }
"""

# Clicking a marker "[n]" in an answer (a link to #dtbd-cite-n) or the number of a source card
# asks the server to open that citation's passage.
SOURCES_JS = """
window.__dtbdTrigger = trigger;
if (!window.__dtbdCiteClicks) {
  window.__dtbdCiteClicks = true;
  document.addEventListener('click', (e) => {
    const a = e.target.closest ? e.target.closest('a[href^="#dtbd-cite-"]') : null;
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const n = parseInt(a.getAttribute('href').slice('#dtbd-cite-'.length), 10);
    if (!Number.isNaN(n) && window.__dtbdTrigger) window.__dtbdTrigger('click', {n: n});
  }, true);
}
watch('value', () => {
  const open = element.querySelector('details[open]');
  if (open) open.scrollIntoView({block: 'nearest'});
});
"""

APP_CSS = """
#dtbd-title h1 { margin-bottom: 0; }
#dtbd-sources-col { max-height: 80vh; overflow: auto; }
#dtbd-chat a[href^="#dtbd-cite-"] { color: #b45309; font-weight: 700; text-decoration: none; cursor: pointer; }
#dtbd-chat a[href^="#dtbd-cite-"]:hover { text-decoration: underline; }
"""


# -- rendering -------------------------------------------------------------------------------
def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def sources_html(answer: Answer | None, selected: int | None = None) -> str:
    """The sources panel: one card per citation, the selected one open, the cited span in <mark>."""
    if answer is None or not answer.citations:
        msg = "Chưa có trích dẫn. Đặt câu hỏi để xem đoạn văn nguồn."
        if answer is not None and answer.refused:
            msg = "Câu trả lời không dựa trên đoạn văn nào (tài liệu hiện có không có thông tin)."
        return f'<div class="dtbd-sources"><p class="dtbd-empty">{_esc(msg)}</p></div>'
    if selected is None or selected not in {c.n for c in answer.citations}:
        selected = answer.citations[0].n
    cards = []
    for c in answer.citations:
        text = c.passage.text
        s = max(0, min(len(text), c.start - c.passage.start))
        e = max(s, min(len(text), c.end - c.passage.start))
        body = f"{_esc(text[:s])}<mark>{_esc(text[s:e])}</mark>{_esc(text[e:])}"
        meta = [
            f"Tỉnh: {_esc(c.province or 'không rõ')}",
            f"Mục: {_esc(c.section or '—')}",
            f"Tệp: {_esc(c.source)} [{c.start}–{c.end}]",
        ]
        is_open = " open" if c.n == selected else ""
        cards.append(
            f'<details class="dtbd-cite" id="dtbd-cite-{c.n}" data-n="{c.n}"{is_open}>'
            f'<summary><span class="dtbd-n">[{c.n}]</span><b class="dtbd-title">{_esc(c.title)}</b></summary>'
            f'<div class="dtbd-meta">{" · ".join(meta)}</div>'
            f'<div class="dtbd-passage">{body}</div></details>'
        )
    return f'<div class="dtbd-sources">{"".join(cards)}</div>'


def chat_markdown(answer: Answer) -> str:
    """The answer for the chat bubble: HTML-escaped, markers turned into links to their source."""
    known = {c.n for c in answer.citations}
    text = html.escape(answer.answer, quote=False)

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[\\[{n}\\]](#dtbd-cite-{n})" if n in known else m.group(0)

    text = _MARKER.sub(link, text)
    if answer.notes:
        text += "\n\n" + "\n".join(f"_Ghi chú: {html.escape(n, quote=False)}_" for n in answer.notes)
    return text


def citation_line(c: Citation) -> str:
    quote = " ".join(c.quote.split())
    return f"[{c.n}] {c.title} — {c.province or 'không rõ tỉnh'} — «{quote}»"


def copy_text(answer: Answer) -> str:
    """Copy-ready text: the answer with its citations as numbered notes."""
    lines = [answer.answer.strip()]
    if answer.citations:
        lines += ["", "Nguồn trích dẫn:"]
        for c in answer.citations:
            lines.append(f"{citation_line(c)} ({c.source}, mục: {c.section or '—'})")
    return "\n".join(lines)


def _xml_safe(text: str) -> str:
    return _XML_BAD.sub("", text)


def answer_docx(answer: Answer, path: Path) -> Path:
    """Write the answer (typically a draft) to .docx with its citations as numbered endnotes."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = _xml_safe(f"Trợ lý ĐTBD — {answer.question}"[:250])
    doc.core_properties.author = "Trợ lý ĐTBD"
    doc.add_heading(MODE_TITLES.get(answer.mode, "Câu trả lời"), level=1)
    q = doc.add_paragraph()
    q.add_run("Câu hỏi: ").bold = True
    q.add_run(_xml_safe(answer.question)).italic = True
    for line in answer.answer.split("\n"):
        line = _xml_safe(line.rstrip())
        if not line:
            continue
        if line.startswith("- "):
            doc.add_paragraph(line[2:], style="List Bullet")
        else:
            doc.add_paragraph(line)
    if answer.citations:
        doc.add_heading("Nguồn trích dẫn", level=2)
        for c in answer.citations:
            p = doc.add_paragraph(_xml_safe(citation_line(c)))
            extra = p.add_run(_xml_safe(f" (tệp {c.source}, mục: {c.section or '—'})"))
            extra.font.size = Pt(9)
    doc.add_paragraph().add_run(
        f"Soạn bằng Trợ lý ĐTBD lúc {datetime.now().strftime('%H:%M %d/%m/%Y')}; "
        "mọi số liệu có trích dẫn nguồn ở trên."
    ).font.size = Pt(8)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


_FEEDBACK_LOCK = threading.Lock()


def record_feedback(settings: Settings, answer: Answer, verdict: str) -> dict[str, Any]:
    """Append one JSON line to ``settings.feedback_log``."""
    entry = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": answer.question,
        "answer": answer.answer,
        "citations": [c.to_json() for c in answer.citations],
        "verdict": verdict,
        "mode": answer.mode,
        "path": answer.path,
        "refused": answer.refused,
    }
    log = Path(settings.feedback_log)
    with _FEEDBACK_LOCK:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def _doc_rows(assistant: Any) -> list[list[Any]]:
    return [[d.title, d.province, d.period, d.doc_type, d.chunks, d.source] for d in assistant.documents()]


def _filter_choices(assistant: Any) -> tuple[list[str], list[tuple[str, str]]]:
    docs = assistant.documents()
    provinces = sorted({d.province for d in docs if d.province})
    doc_choices = []
    for d in docs:
        label = d.title if len(d.title) <= 90 else d.title[:87] + "…"
        doc_choices.append((f"{label} ({d.province or 'không rõ tỉnh'})", d.doc_id))
    return provinces, doc_choices


# -- the app ---------------------------------------------------------------------------------
def build_app(assistant: Any, settings: Settings) -> gr.Blocks:
    """The Gradio Blocks over one ``Assistant`` (the same object the API uses)."""
    export_dir = Path(tempfile.mkdtemp(prefix="dtbd-export-"))
    provinces0, docs0 = _filter_choices(assistant)

    with gr.Blocks(title="Trợ lý ĐTBD", analytics_enabled=False, fill_width=True) as demo:
        answer_state = gr.State(None)  # the latest Answer (feedback, export, source clicks)
        questions_state = gr.State([])  # previous questions: the conversation memory
        gr.Markdown(
            "# Trợ lý ĐTBD\nHỏi đáp, soạn giải pháp và tìm hiểu về đào tạo, bồi dưỡng cán bộ từ kho "
            "tài liệu. Mọi số liệu đều kèm trích dẫn [n] — bấm vào số để xem đoạn văn gốc.",
            elem_id="dtbd-title",
        )
        with gr.Tabs():
            with gr.Tab("Trò chuyện", id="chat-tab"), gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=220):
                    mode = gr.Radio(list(MODE_LABELS), value="Hỏi đáp", label="Chế độ", elem_id="dtbd-mode")
                    provinces = gr.Dropdown(
                        provinces0,
                        value=[],
                        multiselect=True,
                        label="Lọc theo tỉnh",
                        info="Để trống = mọi tỉnh",
                        elem_id="dtbd-provinces",
                    )
                    doc_filter = gr.Dropdown(
                        docs0,
                        value=[],
                        multiselect=True,
                        label="Lọc theo tài liệu",
                        info="Để trống = mọi tài liệu",
                        elem_id="dtbd-docs",
                    )
                with gr.Column(scale=3, min_width=360):
                    chatbot = gr.Chatbot(
                        label="Trò chuyện",
                        height=460,
                        elem_id="dtbd-chat",
                        feedback_options=None,
                        buttons=["copy_all"],
                        placeholder="Hỏi ví dụ: «Nghệ An đào tạo bao nhiêu thạc sỹ?»",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Nhập câu hỏi rồi nhấn Enter…",
                            show_label=False,
                            scale=6,
                            max_length=MAX_QUESTION_CHARS,
                            elem_id="dtbd-question",
                            autofocus=True,
                        )
                        send = gr.Button("Gửi", variant="primary", scale=1, elem_id="dtbd-send")
                    gr.Examples(EXAMPLES, inputs=[question], label="Câu hỏi mẫu")
                    with gr.Row():
                        good = gr.Button("✓ Đúng", size="sm", elem_id="dtbd-good")
                        bad = gr.Button("✗ Sai", size="sm", elem_id="dtbd-bad")
                        download = gr.DownloadButton(
                            "Tải bản .docx", size="sm", interactive=False, elem_id="dtbd-docx"
                        )
                        new_chat = gr.Button("Cuộc trò chuyện mới", size="sm", elem_id="dtbd-new")
                    status = gr.Markdown(elem_id="dtbd-status")
                    with gr.Accordion("Bản sao để dán (kèm chú thích nguồn)", open=False):
                        copy_box = gr.Textbox(
                            lines=8,
                            max_lines=30,
                            show_label=False,
                            interactive=False,
                            buttons=["copy"],
                            elem_id="dtbd-copy",
                        )
                with gr.Column(scale=2, min_width=320, elem_id="dtbd-sources-col"):
                    gr.Markdown("### Nguồn trích dẫn")
                    markers = gr.Radio(
                        [],
                        label="Xem đoạn văn của trích dẫn số",
                        elem_id="dtbd-markers",
                    )
                    sources = gr.HTML(
                        sources_html(None),
                        elem_id="dtbd-sources",
                        css_template=SOURCES_CSS,
                        js_on_load=SOURCES_JS,
                    )
            with gr.Tab("Kho tài liệu", id="docs-tab"):
                doc_table = gr.Dataframe(
                    _doc_rows(assistant),
                    headers=["Tiêu đề", "Tỉnh", "Giai đoạn", "Loại", "Số đoạn", "Tệp"],
                    datatype="str",
                    type="array",
                    interactive=False,
                    wrap=True,
                    label="Tài liệu đã nạp",
                    elem_id="dtbd-doc-table",
                )
                with gr.Row():
                    upload = gr.File(
                        file_count="multiple",
                        file_types=list(UPLOAD_SUFFIXES),
                        label=f"Tải tệp lên ({' '.join(UPLOAD_SUFFIXES)}, tối đa {settings.max_upload_mb:g} MB/tệp)",
                        elem_id="dtbd-upload",
                    )
                with gr.Row():
                    ingest_btn = gr.Button("Nạp vào kho tài liệu", variant="primary", elem_id="dtbd-ingest")
                    refresh_btn = gr.Button("Làm mới danh sách", elem_id="dtbd-refresh")
                ingest_status = gr.Markdown(elem_id="dtbd-ingest-status")

        # -- handlers --------------------------------------------------------------------------
        def respond(
            message: str,
            chat: list[Any] | None,
            mode_label: str,
            province_sel: list[str] | None,
            doc_sel: list[str] | None,
            previous: list[str] | None,
        ) -> Iterator[tuple[Any, ...]]:
            text = (message or "").strip()
            chat = list(chat or [])
            previous = list(previous or [])
            if not text:
                gr.Warning("Câu hỏi trống / empty question")
                yield (gr.skip(),) * 9
                return
            if len(text) > MAX_QUESTION_CHARS:
                gr.Warning(f"Câu hỏi quá dài (tối đa {MAX_QUESTION_CHARS} ký tự)")
                yield (gr.skip(),) * 9
                return
            mode_key = MODE_LABELS.get(mode_label, "qa")
            chat.append({"role": "user", "content": html.escape(text, quote=False)})
            chat.append({"role": "assistant", "content": "_Đang tìm trong tài liệu…_"})
            skip = gr.skip()
            yield chat, "", skip, skip, skip, skip, skip, skip, ""
            final: Answer | None = None
            try:
                for partial, ans in assistant.stream(
                    text,
                    mode=mode_key,
                    history=previous[-HISTORY_TURNS:],
                    provinces=list(province_sel or []) or None,
                    doc_ids=list(doc_sel or []) or None,
                ):
                    if ans is None:
                        chat[-1] = {"role": "assistant", "content": html.escape(partial, quote=False) + " …"}
                        yield chat, skip, skip, skip, skip, skip, skip, skip, skip
                    else:
                        final = ans
            except Exception as e:  # show the failure in the conversation instead of a stuck bubble
                chat[-1] = {"role": "assistant", "content": f"_Xin lỗi, không trả lời được: {_esc(e)}_"}
                yield chat, skip, skip, skip, skip, skip, skip, skip, f"**Lỗi / error:** {_esc(e)}"
                return
            if final is None:
                return
            chat[-1] = {"role": "assistant", "content": chat_markdown(final)}
            choices = [(f"[{c.n}]", c.n) for c in final.citations]
            first = final.citations[0].n if final.citations else None
            note = ""
            if final.resolved_question and final.resolved_question != text:
                note = f"_Hiểu câu hỏi là: «{_esc(final.resolved_question)}»_"
            stamp = time.strftime("%Y%m%d-%H%M%S")
            docx_path = answer_docx(
                final, export_dir / f"tro-ly-dtbd-{final.mode}-{stamp}-{id(final):x}.docx"
            )
            yield (
                chat,
                skip,
                sources_html(final, first),
                gr.Radio(choices=choices, value=first),
                final,
                [*previous, text],
                copy_text(final),
                gr.DownloadButton(value=str(docx_path), interactive=True),
                note,
            )

        chat_outputs = [
            chatbot,
            question,
            sources,
            markers,
            answer_state,
            questions_state,
            copy_box,
            download,
            status,
        ]
        chat_inputs = [question, chatbot, mode, provinces, doc_filter, questions_state]
        question.submit(respond, chat_inputs, chat_outputs, api_name="ask", concurrency_limit=4)
        send.click(respond, chat_inputs, chat_outputs, api_visibility="private", concurrency_limit=4)

        def show_marker(n: int | None, answer: Answer | None) -> str:
            return sources_html(answer, int(n) if n is not None else None)

        markers.input(show_marker, [markers, answer_state], [sources], api_name="show_source")

        def click_marker(answer: Answer | None, evt: gr.EventData) -> tuple[Any, Any]:
            data = evt._data if isinstance(evt._data, dict) else {}
            try:
                n = int(data.get("n"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return gr.skip(), gr.skip()
            return sources_html(answer, n), gr.Radio(value=n)

        sources.click(click_marker, [answer_state], [sources, markers], api_visibility="private")

        def feedback(answer: Answer | None, verdict: str) -> str:
            if answer is None:
                gr.Warning("Chưa có câu trả lời để đánh giá")
                return ""
            record_feedback(settings, answer, verdict)
            return f"Đã ghi nhận: câu trả lời **{verdict}**. Cảm ơn đồng chí!"

        good.click(lambda a: feedback(a, "đúng"), [answer_state], [status], api_name="feedback_good")
        bad.click(lambda a: feedback(a, "sai"), [answer_state], [status], api_name="feedback_bad")

        def reset() -> tuple[Any, ...]:
            return (
                [],
                None,
                [],
                sources_html(None),
                gr.Radio(choices=[], value=None),
                "",
                gr.DownloadButton(value=None, interactive=False),
                "",
            )

        reset_outputs = [chatbot, answer_state, questions_state, sources, markers, copy_box, download, status]
        new_chat.click(reset, None, reset_outputs, api_visibility="private")
        chatbot.clear(reset, None, reset_outputs, api_visibility="private")

        def refreshed() -> tuple[Any, Any, Any]:
            provs, docs = _filter_choices(assistant)
            return _doc_rows(assistant), gr.Dropdown(choices=provs), gr.Dropdown(choices=docs)

        def do_ingest(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            from ingest.index import IndexError_

            if not files:
                return ("Chưa chọn tệp nào để nạp.", gr.skip(), gr.skip(), gr.skip(), gr.skip())
            paths = [Path(f) for f in files]

            def tick(i: int, n: int, name: str) -> None:
                progress((i, n), desc=f"Đang nạp {name}" if name else "Đang cập nhật chỉ mục", unit="tệp")

            try:
                result = ingest_uploads(assistant, settings, [(p.name, p) for p in paths], progress=tick)
            except IndexError_ as e:
                return (f"**Lỗi chỉ mục:** {_esc(e)}", gr.skip(), gr.skip(), gr.skip(), gr.skip())
            lines = []
            if result.files:
                lines.append("**Đã nạp:** " + ", ".join(_esc(f) for f in result.files))
            if result.errors:
                lines.append(f"**{len(result.errors)} tệp lỗi:**")
                lines += [f"- {_esc(err)}" for err in result.errors]
            lines.append(_esc(result.summary))
            table, provs, docs = refreshed()
            return ("\n\n".join(lines[:2]) + "\n" + "\n".join(lines[2:]), table, provs, docs, None)

        ingest_btn.click(
            do_ingest,
            [upload],
            [ingest_status, doc_table, provinces, doc_filter, upload],
            api_name="ingest",
            concurrency_limit=1,
        )

        def reload_docs() -> tuple[Any, Any, Any]:
            assistant.reload()
            return refreshed()

        refresh_btn.click(reload_docs, None, [doc_table, provinces, doc_filter], api_name="refresh_documents")
        demo.load(refreshed, None, [doc_table, provinces, doc_filter], api_visibility="private")
    return demo


def create_server(assistant: Any, settings: Settings, blocks: gr.Blocks | None = None) -> FastAPI:
    """The FastAPI API with the Gradio app mounted at ``/`` (what ``dtbd ui`` serves)."""
    api = create_api(assistant, settings)
    blocks = blocks or build_app(assistant, settings)
    login = auth_pair(settings)
    return gr.mount_gradio_app(
        api,
        blocks,
        path="/",
        server_name=settings.host,
        server_port=settings.port,
        auth=login,
        auth_message="Trợ lý ĐTBD — đăng nhập bằng tài khoản được cấp" if login else None,
        max_file_size=int(settings.max_upload_mb * 1024 * 1024),
        footer_links=["api"],
        ssr_mode=False,
        css=APP_CSS,
        theme=gr.themes.Soft(
            primary_hue="amber",
            font=[
                gr.themes.GoogleFont("IBM Plex Sans", weights=(400, 700)),
                "ui-sans-serif",
                "system-ui",
                "sans-serif",
            ],
        ),
    )


@contextmanager
def running(assistant: Any, settings: Settings, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the app in a background thread (port 0 = a free one); yields its base URL."""
    import socket

    import uvicorn

    check_bind(settings, host)
    if port == 0:
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    app = create_server(assistant, settings)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="dtbd-ui", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"Không khởi động được ứng dụng trên {host}:{port} / app failed to start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch(settings: Settings) -> None:
    """``dtbd ui``: the chat app and the API on ``settings.host:settings.port``."""
    import uvicorn

    from assistant.service import Assistant

    check_bind(settings)
    assistant = Assistant.from_settings(settings, ensure_index=True)
    app = create_server(assistant, settings)
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    print(
        f"Trợ lý ĐTBD: http://{shown}:{settings.port}/  (API: http://{shown}:{settings.port}/docs)",
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
