"""The chat app (Gradio): layout and wiring only.

``dtbd ui`` calls :func:`launch`, which serves the Gradio app at ``/`` and the HTTP API of
:mod:`assistant.api` (``/ask``, ``/documents``, ``/ingest``, ``/health``, ``/docs``) beside it on
``settings.host:settings.port``. What each event does is :mod:`assistant.app_handlers`; what the
page shows is built by :mod:`assistant.app_render`; uploads are checked by
:class:`assistant.app_files.UploadGuard`. Every visible string is Vietnamese, including Gradio's own
("Drop File Here", "Use via API", the page's ``lang``), which :data:`HEAD` translates in the page.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import gradio as gr
from fastapi import FastAPI

from assistant.app_files import UploadGuard
from assistant.app_handlers import MAX_QUESTION_CHARS, Handlers
from assistant.app_render import (  # re-exported: tests and other callers import them from here
    DOC_HEADERS,
    SORTABLE,
    answer_docx,
    chat_markdown,
    copy_text,
    sources_html,
    vi_sort_key,
)
from assistant.modes import REGISTRY
from assistant.settings import Settings
from assistant.web_policy import auth_pair, check_bind
from ingest.uploads import UPLOAD_SUFFIXES

if TYPE_CHECKING:
    from assistant.service import Assistant

__all__ = [
    "answer_docx",
    "build_app",
    "chat_markdown",
    "copy_text",
    "create_server",
    "launch",
    "running",
    "sources_html",
]

GRADIO_CACHE_S = (3600, 24 * 3600)  # Gradio's copies of uploads/downloads: checked hourly, kept a day
SOURCES_CSS = """
.dtbd-empty { color: var(--body-text-color-subdued); padding: 8px 0; }
.dtbd-cite { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 0 0 8px 0; }
.dtbd-cite[open] { border-color: #d97706; box-shadow: 0 0 0 1px #d97706; }
.dtbd-cite summary { cursor: pointer; line-height: 1.4; }
.dtbd-n { display: inline-block; min-width: 2.2em; font-weight: 700; color: #b45309; }
.dtbd-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 4px 0; }
.dtbd-quote { font-style: italic; margin: 2px 0 4px 0; }
.dtbd-found { padding-left: 1.2em; margin: 0; }
.dtbd-found li { margin-bottom: 6px; }
.dtbd-passage { white-space: pre-wrap; line-height: 1.55; font-size: 0.95em; max-height: 22em; overflow: auto; }
.dtbd-passage mark { background: #fde68a; color: #111; padding: 0 2px; border-radius: 2px; }
"""

# Clicking a marker "[n]" in an answer (a link to #dtbd-cite-n) asks the server to open that
# citation's passage; when the panel then changes because of a click, the open card is scrolled
# into view (on a phone the sources sit below the chat). A new answer does not scroll the page.
SOURCES_JS = """
window.__dtbdTrigger = trigger;
// On a phone the sources sit below the chat: bring the card's top into view; on a wide screen
// scroll as little as possible (the panel has its own scroll bar).
window.__dtbdBlock = () => (window.matchMedia('(max-width: 820px)').matches ? 'start' : 'nearest');
if (!window.__dtbdCiteClicks) {
  window.__dtbdCiteClicks = true;
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('#dtbd-markers')) { window.__dtbdScroll = true; return; }
    const a = e.target.closest ? e.target.closest('a[href^="#dtbd-cite-"]') : null;
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const n = parseInt(a.getAttribute('href').slice('#dtbd-cite-'.length), 10);
    if (Number.isNaN(n)) return;
    const card = document.getElementById('dtbd-cite-' + n);
    if (card && card.open) {  // already open: the panel will not change, so scroll now
      card.scrollIntoView({block: window.__dtbdBlock(), behavior: 'instant'});
      return;
    }
    window.__dtbdScroll = true;
    if (window.__dtbdTrigger) window.__dtbdTrigger('click', {n: n});
  }, true);
}
watch('value', () => {
  if (!window.__dtbdScroll) return;
  window.__dtbdScroll = false;
  const open = element.querySelector('details[open]');
  if (open) setTimeout(() => open.scrollIntoView({block: window.__dtbdBlock(), behavior: 'instant'}), 0);
});
"""

APP_CSS = """
#dtbd-title h1 { margin-bottom: 0; }
#dtbd-sources-col { max-height: 85vh; overflow: auto; }
#dtbd-chat a[href^="#dtbd-cite-"] { color: #b45309; font-weight: 700; text-decoration: none; cursor: pointer; }
#dtbd-chat a[href^="#dtbd-cite-"]:hover { text-decoration: underline; }
#dtbd-status { min-height: 1.6em; }
#dtbd-doc-table { overflow-x: hidden; }
#dtbd-doc-table table { table-layout: fixed; width: 100%; }
#dtbd-doc-table td, #dtbd-doc-table th { overflow-wrap: anywhere; }
@media (max-width: 820px) {
  #dtbd-title p { display: none; }
  #dtbd-main-row { flex-direction: column !important; }
  #dtbd-chat-col { order: 1; }
  #dtbd-sources-col { order: 2; max-height: none; overflow: visible; }
  #dtbd-filters-col { order: 3; }
  #dtbd-chat { height: 52vh !important; }
}
"""

# Gradio ships no Vietnamese locale: its own strings are translated in the page, and the page
# says it is Vietnamese. The copy buttons put plain text on the clipboard (no link syntax, no
# Markdown escapes); a copy button that cannot reach the clipboard API falls back to execCommand.
UI_STRINGS: dict[str, str] = {
    "Drop File Here": "Thả tệp vào đây",
    "- or -": "- hoặc -",
    "Click to Upload": "Bấm để chọn tệp",
    "Use via API": "Dùng qua API",
    "Built with Gradio": "",
    "Settings": "Cài đặt",
    "Warning": "Lưu ý",
    "Error": "Lỗi",
    "Info": "Thông báo",
    "Success": "Xong",
    "Loading...": "Đang tải…",
    "Loading…": "Đang tải…",
    "Clear": "Xóa",
    "Copy": "Sao chép",
    "Copied!": "Đã chép",
    "Copy message": "Sao chép tin nhắn",
    "Copy conversation": "Sao chép cả cuộc trò chuyện",
    "Retry": "Tạo lại",
    "Like": "Đúng",
    "Dislike": "Sai",
    "Feedback": "Phản hồi",
    "Undo": "Hoàn tác",
    "Edit": "Sửa",
    "Submit": "Gửi",
    "Cancel": "Hủy",
    "Download": "Tải về",
    "Share": "Chia sẻ",
    "Examples": "Ví dụ",
    "Search": "Tìm",
    "processing": "đang xử lý",
    "Connection errored out.": "Mất kết nối tới máy chủ.",
    "Upload": "Tải lên",
    "Remove": "Bỏ",
    "Remove Image": "Bỏ",
    "Sort ascending": "Sắp tăng dần",
    "Sort descending": "Sắp giảm dần",
    "Clear sort": "Bỏ sắp xếp",
    "Login": "Đăng nhập",
    "username": "tên đăng nhập",
    "password": "mật khẩu",
    "Incorrect Credentials": "Sai tên đăng nhập hoặc mật khẩu",
}
HEAD = (
    "<script>\n"
    "document.documentElement.lang = 'vi';\n"
    f"window.__dtbdStrings = {json.dumps(UI_STRINGS, ensure_ascii=False)};\n"
    """
(() => {
  const S = window.__dtbdStrings;
  const re = /^(\\s*)(.*?)(\\s*)$/s;
  // Gradio's progress line: "processing | 1.2s", "queue: 2/3 | 0.4s".
  const RULES = [[/^(\\s*)processing(?=\\s*\\||\\s*$)/, '$1đang xử lý'], [/^(\\s*)queue:/, '$1hàng đợi:']];
  const fix = (t) => {
    const m = re.exec(t);
    if (m && m[2] in S) return m[1] + S[m[2]] + m[3];
    for (const [rx, to] of RULES) if (rx.test(t)) return t.replace(rx, to);
    return null;
  };
  const attrs = ['title', 'aria-label', 'placeholder'];
  const walk = (root) => {
    if (document.documentElement.lang !== 'vi') document.documentElement.lang = 'vi';
    const tw = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n; while ((n = tw.nextNode())) { const v = fix(n.nodeValue); if (v !== null && v !== n.nodeValue) n.nodeValue = v; }
    if (root.querySelectorAll) root.querySelectorAll('[title],[aria-label],[placeholder]').forEach((el) => {
      for (const a of attrs) { const v0 = el.getAttribute(a); if (v0 === null) continue; const v = fix(v0); if (v !== null && v !== v0) el.setAttribute(a, v); }
    });
  };
  const clean = (t) => String(t)
    .replace(/\\[\\\\\\[(\\d+)\\\\\\]\\]\\(#dtbd-cite-\\d+\\)/g, '[$1]')
    .replace(/\\\\([\\\\`*_{}\\[\\]()#+!|~<>$:@.-])/g, '$1')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&amp;/g, '&');
  window.__dtbdClean = clean;
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const orig = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (t) => orig(clean(t));
  }
  window.__dtbdCopy = (t) => {
    const text = clean(t || '');
    const fallback = () => { const ta = document.createElement('textarea'); ta.value = text; document.body.appendChild(ta); ta.select(); document.execCommand('copy'); ta.remove(); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).catch(fallback); else fallback();
    window.__dtbdCopied = text;
  };
  let queued = false;
  const start = () => {
    walk(document.body);
    new MutationObserver(() => { if (queued) return; queued = true; requestAnimationFrame(() => { queued = false; walk(document.body); }); })
      .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: attrs});
  };
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
</script>
"""
)
COPY_JS = "(text) => { window.__dtbdCopy(text); return []; }"


def build_app(assistant: Assistant, settings: Settings) -> gr.Blocks:
    """The Gradio Blocks over one ``Assistant`` (the same object the API uses)."""
    h = Handlers(assistant, settings)
    docs0 = assistant.documents()
    from assistant.app_render import filter_choices

    provinces0, doc_choices0 = filter_choices(docs0)
    labels = [spec.label for spec in REGISTRY.values()]

    with gr.Blocks(
        title="Trợ lý ĐTBD", analytics_enabled=False, fill_width=True, delete_cache=GRADIO_CACHE_S
    ) as demo:
        answer_state = gr.State(None)  # the Answer the sources panel shows (markers, feedback, export)
        questions_state = gr.State([])  # previous questions: the conversation memory
        answers_state = gr.State({})  # chat message index -> its Answer (per-message feedback)
        saved = gr.BrowserState(None, storage_key="dtbd-conversation", secret=h.browser_secret())
        gr.Markdown(
            "# Trợ lý ĐTBD\nHỏi đáp, soạn giải pháp và tìm hiểu về đào tạo, bồi dưỡng cán bộ từ kho "
            "tài liệu. Mọi số liệu đều kèm trích dẫn [n] — bấm vào số để xem đoạn văn gốc.",
            elem_id="dtbd-title",
        )
        with gr.Tabs():
            with gr.Tab("Trò chuyện", id="chat-tab"), gr.Row(equal_height=False, elem_id="dtbd-main-row"):
                with gr.Column(scale=1, min_width=220, elem_id="dtbd-filters-col"):
                    mode = gr.Radio(labels, value=labels[0], label="Chế độ", elem_id="dtbd-mode")
                    provinces = gr.Dropdown(
                        provinces0,
                        value=[],
                        multiselect=True,
                        label="Lọc theo tỉnh",
                        info="Để trống = mọi tỉnh",
                        elem_id="dtbd-provinces",
                    )
                    doc_filter = gr.Dropdown(
                        doc_choices0,
                        value=[],
                        multiselect=True,
                        label="Lọc theo tài liệu",
                        info="Để trống = mọi tài liệu",
                        elem_id="dtbd-docs",
                    )
                    new_chat = gr.Button("Cuộc trò chuyện mới", size="sm", elem_id="dtbd-new")
                with gr.Column(scale=3, min_width=360, elem_id="dtbd-chat-col"):
                    chatbot = gr.Chatbot(
                        label="Trò chuyện",
                        height=460,
                        elem_id="dtbd-chat",
                        feedback_options=("Like", "Dislike"),  # thumbs; labels translated in HEAD
                        editable="user",
                        buttons=["copy", "copy_all"],
                        latex_delimiters=[],
                        placeholder="Hỏi ví dụ: «Nghệ An đào tạo bao nhiêu thạc sỹ?»",
                    )
                    status = gr.Markdown(label="Trạng thái", elem_id="dtbd-status")
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Nhập câu hỏi rồi nhấn Enter…",
                            label="Câu hỏi",
                            show_label=False,
                            scale=6,
                            min_width=150,
                            max_length=MAX_QUESTION_CHARS,
                            elem_id="dtbd-question",
                            autofocus=True,
                        )
                        send = gr.Button("Gửi", variant="primary", scale=1, min_width=64, elem_id="dtbd-send")
                        stop = gr.Button("Dừng", variant="stop", scale=1, min_width=64, elem_id="dtbd-stop")
                    search_all = gr.Button(
                        "Tìm trong mọi tài liệu", visible=False, size="sm", elem_id="dtbd-search-all"
                    )
                    gr.Examples(
                        [[spec.example, spec.label] for spec in REGISTRY.values()],
                        inputs=[question, mode],
                        label="Câu hỏi mẫu (bấm để chọn cả chế độ)",
                        elem_id="dtbd-examples",
                    )
                    comment = gr.Textbox(
                        label="Góp ý (không bắt buộc)",
                        placeholder="Vì sao câu trả lời đúng hay sai? Gửi kèm khi bấm Đúng/Sai.",
                        lines=1,
                        max_lines=4,
                        max_length=2000,
                        elem_id="dtbd-comment",
                    )
                    with gr.Row():
                        good = gr.Button("✓ Đúng", size="sm", elem_id="dtbd-good")
                        bad = gr.Button("✗ Sai", size="sm", elem_id="dtbd-bad")
                        download = gr.DownloadButton(
                            "Tải bản .docx", size="sm", interactive=False, elem_id="dtbd-docx"
                        )
                    with gr.Accordion(
                        "Bản sao để dán (kèm chú thích nguồn)", open=False, elem_id="dtbd-copy-acc"
                    ):
                        copy_box = gr.Textbox(
                            lines=8,
                            max_lines=30,
                            label="Bản sao để dán",
                            show_label=False,
                            interactive=False,
                            elem_id="dtbd-copy",
                        )
                        copy_btn = gr.Button("Sao chép", size="sm", elem_id="dtbd-copy-btn")
                    with gr.Accordion("Chi tiết kỹ thuật", open=False, elem_id="dtbd-details-acc"):
                        details = gr.Markdown(label="Chi tiết kỹ thuật", elem_id="dtbd-details")
                with gr.Column(scale=2, min_width=320, elem_id="dtbd-sources-col"):
                    gr.Markdown("### Nguồn trích dẫn")
                    markers = gr.Radio([], label="Xem đoạn văn của trích dẫn số", elem_id="dtbd-markers")
                    sources = gr.HTML(
                        sources_html(None),
                        label="Nguồn trích dẫn",
                        elem_id="dtbd-sources",
                        css_template=SOURCES_CSS,
                        js_on_load=SOURCES_JS,
                    )
            with gr.Tab("Kho tài liệu", id="docs-tab"):
                with gr.Row():
                    lib_text = gr.Textbox(
                        label="Tìm theo tên",
                        placeholder="Gõ một phần tiêu đề hoặc tên tệp",
                        scale=3,
                        elem_id="dtbd-lib-text",
                    )
                    lib_province = gr.Dropdown(
                        ["", *provinces0], value="", label="Tỉnh", scale=2, elem_id="dtbd-lib-province"
                    )
                    lib_sort = gr.Dropdown(
                        SORTABLE, value="Tiêu đề", label="Sắp xếp theo", scale=2, elem_id="dtbd-lib-sort"
                    )
                doc_table = gr.Dataframe(
                    h.library(),
                    headers=DOC_HEADERS,
                    datatype="str",
                    type="array",
                    interactive=False,
                    wrap=True,
                    column_widths=["32%", "9%", "9%", "8%", "7%", "19%", "16%"],
                    max_height=560,
                    label="Tài liệu đã nạp",
                    elem_id="dtbd-doc-table",
                )
                upload = gr.File(
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    label=f"Tải tệp lên ({' '.join(UPLOAD_SUFFIXES)}, tối đa {settings.max_upload_mb:g} MB/tệp)",
                    elem_id="dtbd-upload",
                )
                with gr.Row():
                    ingest_btn = gr.Button("Nạp vào kho tài liệu", variant="primary", elem_id="dtbd-ingest")
                    refresh_btn = gr.Button("Làm mới danh sách", elem_id="dtbd-refresh")
                ingest_status = gr.Markdown(label="Kết quả nạp", elem_id="dtbd-ingest-status")
                with gr.Accordion("Chi tiết kỹ thuật", open=False):
                    ingest_details = gr.Markdown(
                        label="Chi tiết kỹ thuật của lượt nạp", elem_id="dtbd-ingest-details"
                    )
                with gr.Accordion("Sửa thông tin tài liệu", open=False, elem_id="dtbd-meta-acc"):
                    meta_doc = gr.Dropdown(
                        [
                            (f"{d.title} ({d.source})", d.source)
                            for d in sorted(docs0, key=lambda d: vi_sort_key(d.title))
                        ],
                        value=None,
                        label="Tài liệu",
                        elem_id="dtbd-meta-doc",
                    )
                    with gr.Row():
                        meta_title = gr.Textbox(label="Tiêu đề", scale=3, elem_id="dtbd-meta-title")
                        meta_province = gr.Textbox(label="Tỉnh", scale=1, elem_id="dtbd-meta-province")
                    with gr.Row():
                        meta_type = gr.Textbox(label="Loại (báo cáo, kết luận…)", elem_id="dtbd-meta-type")
                        meta_date = gr.Textbox(label="Ngày (dd/mm/yyyy)", elem_id="dtbd-meta-date")
                        meta_period = gr.Textbox(
                            label="Giai đoạn (yyyy hoặc yyyy-yyyy)", elem_id="dtbd-meta-period"
                        )
                    meta_btn = gr.Button("Lưu thông tin", variant="primary", elem_id="dtbd-meta-save")
                    meta_status = gr.Markdown(label="Kết quả sửa", elem_id="dtbd-meta-status")
                with gr.Accordion("Xóa một tệp đã tải lên", open=False, elem_id="dtbd-delete-acc"):
                    from assistant.app_handlers import vi_uploads

                    delete_name = gr.Dropdown(
                        vi_uploads(docs0), value=None, label="Tệp tải lên", elem_id="dtbd-delete-name"
                    )
                    delete_ok = gr.Checkbox(
                        label="Tôi chắc chắn muốn xóa", value=False, elem_id="dtbd-delete-ok"
                    )
                    delete_btn = gr.Button("Xóa tệp", variant="stop", elem_id="dtbd-delete")
                    delete_status = gr.Markdown(label="Kết quả xóa", elem_id="dtbd-delete-status")

        # -- wiring --------------------------------------------------------------------------------
        ask_outputs = [
            chatbot,
            question,
            sources,
            markers,
            answer_state,
            questions_state,
            answers_state,
            copy_box,
            download,
            status,
            search_all,
            details,
        ]
        ask_inputs = [question, chatbot, mode, provinces, doc_filter, questions_state, answers_state]
        save_inputs = [chatbot, questions_state]

        def asked(event: Any) -> Any:
            return event.then(h.save_conversation, save_inputs, [saved], api_visibility="private")

        ev_submit = question.submit(
            h.respond,
            ask_inputs,
            ask_outputs,
            api_name="ask",
            concurrency_limit=4,
            show_progress="hidden",
            trigger_mode="multiple",
        )
        ev_send = send.click(
            h.respond,
            ask_inputs,
            ask_outputs,
            api_visibility="private",
            concurrency_limit=4,
            show_progress="hidden",
            trigger_mode="multiple",
        )
        asked(ev_submit)
        asked(ev_send)
        ev_retry = chatbot.retry(
            h.prepare_retry,
            [chatbot, questions_state, answers_state],
            [question, chatbot, questions_state, answers_state],
            api_visibility="private",
        ).success(
            h.respond,
            ask_inputs,
            ask_outputs,
            api_visibility="private",
            concurrency_limit=4,
            show_progress="hidden",
        )
        asked(ev_retry)
        ev_edit = chatbot.edit(
            h.prepare_edit,
            [chatbot, questions_state, answers_state],
            [question, chatbot, questions_state, answers_state],
            api_visibility="private",
        ).success(
            h.respond,
            ask_inputs,
            ask_outputs,
            api_visibility="private",
            concurrency_limit=4,
            show_progress="hidden",
        )
        asked(ev_edit)
        ev_all = search_all.click(
            lambda qs: ((qs or [""])[-1], [], []),
            [questions_state],
            [question, provinces, doc_filter],
            api_visibility="private",
        ).then(
            h.respond,
            ask_inputs,
            ask_outputs,
            api_visibility="private",
            concurrency_limit=4,
            show_progress="hidden",
        )
        running_events = [ev_submit, ev_send, ev_retry, ev_edit, ev_all]
        # «Dừng» sets the running answer's stop flag: that answer ends with «(đã dừng)» and its
        # worker closes the LLM stream (freeing the slot); «Cuộc trò chuyện mới» also cancels the
        # events, so nothing of the old answer reaches the cleared chat.
        stop.click(h.stop, None, [status], api_name="stop", queue=False)

        markers.input(h.show_marker, [markers, answer_state], [sources], api_name="show_source")
        sources.click(h.click_marker, [answer_state], [sources, markers], api_visibility="private")
        chatbot.select(
            h.select_message,
            [answers_state],
            [sources, markers, answer_state, copy_box, details],
            api_visibility="private",
        )

        good.click(h.feedback_good, [answer_state, comment], [status, comment], api_name="feedback_good")
        bad.click(h.feedback_bad, [answer_state, comment], [status, comment], api_name="feedback_bad")
        chatbot.like(h.like, [answers_state, comment], [status, comment], api_visibility="private")
        copy_btn.click(None, [copy_box], None, js=COPY_JS)

        reset_outputs = [
            saved,
            chatbot,
            answer_state,
            questions_state,
            answers_state,
            sources,
            markers,
            copy_box,
            download,
            status,
            details,
        ]
        # Private: it resets this browser tab's state; an API client starts afresh by sending chat=[].
        new_chat.click(h.reset, None, reset_outputs, cancels=running_events, api_visibility="private")
        chatbot.clear(h.reset, None, reset_outputs, cancels=running_events, api_visibility="private")

        lib_filters: list[Any] = [lib_text, lib_province, lib_sort]
        lib_outputs = [doc_table, provinces, doc_filter, lib_province, delete_name, meta_doc]
        meta_fields = [meta_title, meta_province, meta_type, meta_date, meta_period]
        meta_doc.change(h.pick_document, [meta_doc], meta_fields, api_visibility="private")
        meta_btn.click(
            h.save_metadata,
            [meta_doc, *meta_fields],
            [meta_status, *lib_outputs],
            api_name="save_metadata",
            concurrency_limit=1,
        )
        for comp in lib_filters:
            comp.change(h.library, lib_filters, [doc_table], api_visibility="private", show_progress="hidden")
        ingest_btn.click(
            h.ingest,
            [upload],
            [ingest_status, ingest_details, *lib_outputs, upload],
            api_name="ingest",
            concurrency_limit=1,
        )
        refresh_btn.click(h.reload_docs, lib_filters, lib_outputs, api_name="refresh_documents")
        delete_btn.click(
            h.delete,
            [delete_name, delete_ok],
            [delete_status, *lib_outputs],
            api_name="delete_upload",
            concurrency_limit=1,
        )
        demo.load(h.refreshed, lib_filters, lib_outputs, api_visibility="private", show_progress="hidden")
        demo.load(
            h.restore_conversation,
            [saved],
            [chatbot, questions_state],
            api_visibility="private",
            show_progress="hidden",
        )
    return demo


def create_server(assistant: Assistant, settings: Settings, blocks: gr.Blocks | None = None) -> FastAPI:
    """The FastAPI API with the Gradio app mounted at ``/`` (what ``dtbd ui`` serves)."""
    from assistant.api import create_api

    api = create_api(assistant, settings)
    blocks = blocks or build_app(assistant, settings)
    login = auth_pair(settings)
    app = gr.mount_gradio_app(
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
        run_history=False,  # Gradio would keep every question and answer in the browser's storage
        css=APP_CSS,
        head=HEAD,
        theme=gr.themes.Soft(
            primary_hue="amber",
            font=["ui-sans-serif", "system-ui", "sans-serif"],
        ),
    )
    app.add_middleware(UploadGuard)
    return app


@contextmanager
def running(
    assistant: Assistant, settings: Settings, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
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
    assistant = Assistant.from_settings(settings)
    app = create_server(assistant, settings)
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    print(
        f"Trợ lý ĐTBD: http://{shown}:{settings.port}/  (API: http://{shown}:{settings.port}/docs)",
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
