"""The chat app's event handlers: each turns one Gradio event into calls on the assistant.

Owns what happens between a click and the services: a question runs in a worker thread
(:class:`Turn`) so the page can show live progress (stage and elapsed seconds, the LLM queue
position from :func:`assistant.llm.slot_stats`), be stopped («Dừng», «Cuộc trò chuyện mới»), and a
second question from the same browser tab while one runs is refused with a message instead of being
dropped. Uploads, deletes and metadata go through :mod:`ingest.uploads`; rendering is
:mod:`assistant.app_render`'s. No handler builds layout; :mod:`assistant.app` wires them.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant import app_render as render
from assistant.app_files import ExportFolder
from assistant.llm import slot_stats
from assistant.modes import REGISTRY
from assistant.settings import Settings
from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.service import Assistant

MAX_QUESTION_CHARS = 2000  # the same limit as the HTTP API's AskRequest
HISTORY_TURNS = 6  # previous questions handed to the assistant (follow-ups need one or two)
POLL_S = 1.0  # how often the status line's elapsed seconds are refreshed while waiting
MODE_BY_LABEL: dict[str, str] = {spec.label: name for name, spec in REGISTRY.items()}
SAVED_TURNS = 50  # messages kept in a saved conversation (browser or per-login file)
_FEEDBACK_LOCK = threading.Lock()
_EXC_GROUP = re.compile(r"\s*\([^()]*\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b[^()]*\)")
_EXC_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b:?\s*")
_ENGLISH_TAIL = re.compile(r"\s*\((?=[^()]*[A-Za-z])[^()À-ỹđĐ]*\)\s*$")


def plain_error(message: str) -> str:
    """A loader/index error as a person reads it: the Vietnamese part, no exception class names."""
    text = str(message)
    if " / " in text:
        text = text.split(" / ", 1)[0]
    text = _EXC_GROUP.sub("", text)
    text = _EXC_NAME.sub("", text)
    text = _ENGLISH_TAIL.sub("", text)
    return text.strip(" :;") or "không đọc được tệp"


# -- feedback ----------------------------------------------------------------------------------
def record_feedback(settings: Settings, answer: Answer, verdict: str, comment: str = "") -> dict[str, Any]:
    """Append one JSON line to ``settings.feedback_log``."""
    entry = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": answer.question,
        "answer": answer.answer,
        "citations": [c.to_json() for c in answer.citations],
        "verdict": verdict,
        "comment": comment.strip()[:2000],
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


# -- one running answer --------------------------------------------------------------------------
@dataclass
class Turn:
    """``Assistant.stream`` in a worker thread; events come back through a queue."""

    events: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    stop_flag: threading.Event = field(default_factory=threading.Event)
    abandoned: threading.Event = field(default_factory=threading.Event)  # «Cuộc trò chuyện mới»
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self, assistant: Assistant, **kwargs: Any) -> None:
        def heard(stage: str, details: dict[str, Any]) -> None:
            self.events.put(("status", (stage, details)))

        def work() -> None:
            steps = assistant.stream(**kwargs, on_status=heard, should_stop=self.stop_flag.is_set)
            try:
                for text, ans in steps:
                    if self.stop_flag.is_set():
                        break
                    self.events.put(("final", ans) if ans is not None else ("partial", text))
            except Exception as e:  # shown as a plain message; the detail goes to «Chi tiết kỹ thuật»
                self.events.put(("error", e))
            finally:
                close = getattr(steps, "close", None)
                if close is not None:
                    close()  # a stopped LLM stream leaves its slot (llm_slot's context exits)
                self.done.set()
                self.events.put(("end", None))

        threading.Thread(target=work, name="dtbd-answer", daemon=True).start()

    def stop(self) -> None:
        self.stop_flag.set()

    def abandon(self) -> None:
        """Stop, and draw nothing more: the conversation it belonged to was cleared."""
        self.abandoned.set()
        self.stop_flag.set()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _stage_line(stage: str, elapsed: float) -> str:
    return f"⏳ {stage} · {elapsed:.0f} s"


class Handlers:
    """The handlers over one ``Assistant`` (the same object the HTTP API uses)."""

    def __init__(self, assistant: Assistant, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        self.exports = ExportFolder(Path(settings.export_dir))
        self._turns: dict[str, Turn] = {}
        self._turns_lock = threading.Lock()

    # -- asking ----------------------------------------------------------------------------------
    def busy(self, session: str) -> bool:
        with self._turns_lock:
            turn = self._turns.get(session)
            return turn is not None and not turn.done.is_set() and not turn.stop_flag.is_set()

    def stop(self, request: gr.Request | None = None) -> str:
        """«Dừng»: stop this tab's running answer (the LLM stream is closed, its slot freed)."""
        session = _session(request)
        with self._turns_lock:
            turn = self._turns.get(session)
        if turn is None or turn.done.is_set():
            return ""
        turn.stop()
        return "Đã dừng câu trả lời."

    def respond(
        self,
        message: str,
        chat: list[Any] | None,
        mode_label: str,
        province_sel: list[str] | None,
        doc_sel: list[str] | None,
        previous: list[str] | None,
        answers: dict[int, Answer] | None,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer one question, yielding values for :data:`ASK_OUTPUTS` (skipped ones unchanged)."""
        text = (message or "").strip()
        chat = list(chat or [])
        previous = list(previous or [])
        answers = dict(answers or {})
        session = _session(request)
        if not text:
            gr.Warning("Câu hỏi trống.")
            yield _out()
            return
        if len(text) > MAX_QUESTION_CHARS:
            gr.Warning(f"Câu hỏi quá dài (tối đa {MAX_QUESTION_CHARS} ký tự).")
            yield _out()
            return
        if self.busy(session):
            gr.Warning("Đang trả lời câu trước. Chờ xong hoặc bấm «Dừng» rồi gửi lại.")
            yield _out(
                status="Đang trả lời câu trước — câu mới chưa được gửi (bấm «Dừng» để dừng câu đang chạy)."
            )
            return
        mode = MODE_BY_LABEL.get(mode_label, "qa")
        provinces = list(province_sel or [])
        doc_ids = list(doc_sel or [])
        chat.append({"role": "user", "content": render.md_text(text)})
        chat.append({"role": "assistant", "content": "_Đang tìm trong tài liệu…_"})
        turn = Turn()
        with self._turns_lock:
            old = self._turns.get(session)
            if old is not None:
                old.stop()
            self._turns[session] = turn
        no_docx = gr.DownloadButton(value=None, interactive=False)
        hidden = gr.Button(visible=False)
        yield _out(
            chat=chat,
            question="",
            sources=render.found_sources_html([]),
            markers=gr.Radio(choices=[], value=None),
            copy="",
            download=no_docx,
            status=_stage_line("Đang tìm trong tài liệu", 0),
            search_all=hidden,
            details="",
        )
        turn.run(
            self.assistant,
            question=text,
            mode=mode,
            history=previous[-HISTORY_TURNS:],
            provinces=provinces or None,
            doc_ids=doc_ids or None,
        )
        final: Answer | None = None
        shown = ""
        stage = "Đang tìm trong tài liệu"
        queue_at: tuple[int, int] | None = None  # (position when queued, LLM requests served then)
        try:
            while True:
                try:
                    kind, value = turn.events.get(timeout=POLL_S)
                except queue.Empty:
                    kind, value = "tick", None
                if turn.stop_flag.is_set():  # «Dừng»: answer now; the worker ends at its next step
                    break
                if kind == "status":
                    name, info = value
                    found = None
                    if name == "passages":
                        found = render.found_sources_html(
                            self._titles(info.get("sources", [])), int(info.get("n", 0))
                        )
                        stage = "Đã tìm thấy đoạn văn, đang soạn câu trả lời"
                    elif name == "queue":
                        queue_at = (int(info.get("position", 1)), slot_stats(self.settings)["served"])
                        stage = f"Đang chờ mô hình (vị trí {queue_at[0]} trong hàng đợi)"
                    elif name == "writing":
                        queue_at = None
                        stage = "Đang viết"
                    yield _out(
                        sources=found if found is not None else gr.skip(),
                        status=_stage_line(stage, turn.elapsed),
                    )
                elif kind == "partial":
                    shown = value
                    chat[-1] = {"role": "assistant", "content": render.partial_markdown(value)}
                    yield _out(chat=chat, status=_stage_line(stage, turn.elapsed))
                elif kind == "tick":
                    if queue_at is not None:  # the queue moves as earlier requests are served
                        pos = max(1, queue_at[0] - (slot_stats(self.settings)["served"] - queue_at[1]))
                        stage = f"Đang chờ mô hình (vị trí {pos} trong hàng đợi)"
                    yield _out(status=_stage_line(stage, turn.elapsed))
                elif kind == "error":
                    chat[-1] = {
                        "role": "assistant",
                        "content": "_Xin lỗi, chưa trả lời được câu này. Hãy thử lại hoặc hỏi cách khác._",
                    }
                    yield _out(
                        chat=chat,
                        status="Không trả lời được.",
                        details=f"- Lỗi: {render.md_text(plain_error(str(value)))}",
                    )
                    return
                elif kind == "final":
                    final = value
                elif kind == "end":
                    break
        finally:
            turn.stop()  # the page went away or the event was cancelled: stop the worker too
            with self._turns_lock:
                if self._turns.get(session) is turn:
                    del self._turns[session]
        if turn.abandoned.is_set():  # the chat was cleared meanwhile: never redraw the old one
            return
        if final is None:  # stopped by «Dừng»
            tail = "_(đã dừng)_"
            chat[-1] = {
                "role": "assistant",
                "content": f"{render.md_text(shown)}\n\n{tail}" if shown else tail,
            }
            yield _out(chat=chat, status="Đã dừng.")
            return
        chat[-1] = {"role": "assistant", "content": render.chat_markdown(final)}
        answers[len(chat) - 1] = final
        first = final.citations[0].n if final.citations else None
        status = f"Xong sau {turn.elapsed:.1f} s."
        if final.resolved_question and final.resolved_question != text:
            status = f"Hiểu câu hỏi là: «{render.md_text(final.resolved_question)}». " + status
        search_all = hidden
        if final.refused and (provinces or doc_ids):
            scope = ", ".join(provinces) if provinces else f"{len(doc_ids)} tài liệu đã chọn"
            status = (
                f"Không tìm thấy trong phạm vi đang lọc ({render.md_text(scope)}). "
                "Bấm «Tìm trong mọi tài liệu» để tìm lại không lọc."
            )
            search_all = gr.Button(visible=True)
        download = no_docx
        if not final.refused:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = render.answer_docx(
                final, self.exports.new_file(f"tro-ly-dtbd-{final.mode}-{stamp}-{id(final):x}.docx")
            )
            download = gr.DownloadButton(value=str(path), interactive=True)
        yield _out(
            chat=chat,
            sources=render.sources_html(final, first),
            markers=gr.Radio(choices=[(f"[{c.n}]", c.n) for c in final.citations], value=first),
            answer=final,
            questions=[*previous, text],
            answers=answers,
            copy=render.copy_text(final),
            download=download,
            status=status,
            search_all=search_all,
            details=render.details_markdown(final, turn.elapsed),
        )

    def _titles(self, sources: list[str]) -> list[tuple[str, str]]:
        """(title, province) of the documents stored under ``sources``, in that order."""
        by_source = {d.source: (d.title, d.province) for d in self.assistant.documents()}
        return [by_source[s] for s in dict.fromkeys(sources) if s in by_source]

    # -- regenerate / edit ------------------------------------------------------------------------
    def prepare_retry(
        self, chat: list[Any] | None, previous: list[str] | None, answers: dict[int, Answer] | None
    ) -> tuple[str, list[Any], list[str], dict[int, Answer]]:
        """«Tạo lại»: drop the last exchange; its question goes back into the box to be asked again."""
        chat = list(chat or [])
        previous = list(previous or [])
        if not previous or len(chat) < 2:
            raise gr.Error("Chưa có câu hỏi nào để hỏi lại.", print_exception=False)
        last_user = max(i for i, m in enumerate(chat) if _role(m) == "user")
        question = previous[-1]
        kept = {i: a for i, a in (answers or {}).items() if i < last_user}
        return question, chat[:last_user], previous[:-1], kept

    def prepare_edit(
        self,
        chat: list[Any] | None,
        previous: list[str] | None,
        answers: dict[int, Answer] | None,
        edit: gr.EditData,
    ) -> tuple[str, list[Any], list[str], dict[int, Answer]]:
        """Editing the last question: it replaces that exchange; older questions cannot be edited."""
        chat = list(chat or [])
        previous = list(previous or [])
        users = [i for i, m in enumerate(chat) if _role(m) == "user"]
        index = edit.index if isinstance(edit.index, int) else edit.index[0]
        if not users or index != users[-1] or not previous:
            raise gr.Error("Chỉ sửa được câu hỏi cuối cùng.", print_exception=False)
        new_text = render.plain_from_markdown(str(edit.value)).strip()
        kept = {i: a for i, a in (answers or {}).items() if i < index}
        return new_text, chat[:index], previous[:-1], kept

    # -- sources ------------------------------------------------------------------------------------
    def show_marker(self, n: int | None, answer: Answer | None) -> str:
        return render.sources_html(answer, int(n) if n is not None else None)

    def click_marker(self, answer: Answer | None, evt: gr.EventData) -> tuple[Any, Any]:
        data = evt._data if isinstance(evt._data, dict) else {}
        try:
            n = int(data.get("n"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return gr.skip(), gr.skip()
        return render.sources_html(answer, n), gr.Radio(value=n)

    def select_message(
        self, answers: dict[int, Answer] | None, evt: gr.SelectData
    ) -> tuple[Any, Any, Any, Any, Any]:
        """Clicking an earlier answer brings back its sources, copy text and .docx."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        answer = (answers or {}).get(index)
        if answer is None:
            return (gr.skip(),) * 5
        first = answer.citations[0].n if answer.citations else None
        return (
            render.sources_html(answer, first),
            gr.Radio(choices=[(f"[{c.n}]", c.n) for c in answer.citations], value=first),
            answer,
            render.copy_text(answer),
            render.details_markdown(answer),
        )

    # -- feedback -------------------------------------------------------------------------------------
    def feedback(self, answer: Answer | None, comment: str | None, verdict: str) -> tuple[str, str]:
        if answer is None:
            gr.Warning("Chưa có câu trả lời để đánh giá.")
            return "", gr.skip()
        record_feedback(self.settings, answer, verdict, comment or "")
        return f"Đã ghi nhận: câu trả lời **{verdict}**. Cảm ơn đồng chí!", ""

    def feedback_good(self, answer: Answer | None, comment: str | None = "") -> tuple[str, str]:
        return self.feedback(answer, comment, "đúng")

    def feedback_bad(self, answer: Answer | None, comment: str | None = "") -> tuple[str, str]:
        return self.feedback(answer, comment, "sai")

    def like(
        self, answers: dict[int, Answer] | None, comment: str | None, data: gr.LikeData
    ) -> tuple[str, str]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        answer = (answers or {}).get(index)
        if answer is None:
            return "Tin nhắn này không có câu trả lời để đánh giá.", gr.skip()
        verdict = {True: "đúng", False: "sai", "Like": "đúng", "Dislike": "sai"}.get(
            data.liked, "bỏ đánh giá"
        )  # type: ignore[call-overload]
        record_feedback(self.settings, answer, verdict, comment or "")
        return f"Đã ghi nhận: câu trả lời **{verdict}**. Cảm ơn đồng chí!", ""

    # -- a new conversation -----------------------------------------------------------------------------
    def reset(self, request: gr.Request | None = None) -> tuple[Any, ...]:
        """«Cuộc trò chuyện mới»: stop the running answer, clear the page and the saved conversation."""
        with self._turns_lock:
            turn = self._turns.get(_session(request))
        if turn is not None:
            turn.abandon()  # its answer must not come back into the cleared chat
        return (
            self.save_conversation([], [], request),
            [],
            None,
            [],
            {},
            render.sources_html(None),
            gr.Radio(choices=[], value=None),
            "",
            gr.DownloadButton(value=None, interactive=False),
            "",
            "",
        )

    # -- conversations that survive a reload -----------------------------------------------------------
    def _conversation_file(self, request: gr.Request | None) -> Path | None:
        user = getattr(request, "username", None) if request is not None else None
        if not user:
            return None
        safe = re.sub(r"[^\w.-]", "_", user)[:80] or "_"
        return Path(self.settings.conversations_dir) / f"{safe}.json"

    def browser_secret(self) -> str:
        """The key the browser-side conversation is encrypted with, kept across server restarts."""
        path = Path(self.settings.conversations_dir) / ".browser-secret"
        try:
            return path.read_text(encoding="ascii").strip()
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32)
        tmp = path.with_name(f".browser-secret.{os.getpid()}")
        tmp.write_text(secret, encoding="ascii")
        tmp.chmod(0o600)
        tmp.replace(path)
        return path.read_text(encoding="ascii").strip()

    def save_conversation(
        self, chat: list[Any] | None, previous: list[str] | None, request: gr.Request | None = None
    ) -> Any:
        """Keep the conversation: per login on the server when a login is set, else in the browser."""
        data = {"chat": list(chat or [])[-SAVED_TURNS:], "questions": list(previous or [])[-SAVED_TURNS:]}
        path = self._conversation_file(request)
        if path is None:
            return data
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return gr.skip()

    def restore_conversation(self, stored: Any, request: gr.Request | None = None) -> tuple[Any, Any]:
        path = self._conversation_file(request)
        if path is not None:
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
        if not isinstance(stored, dict) or not isinstance(stored.get("chat"), list):
            return gr.skip(), gr.skip()
        chat = [m for m in stored["chat"] if isinstance(m, dict) and _role(m) in ("user", "assistant")]
        questions = [q for q in stored.get("questions", []) if isinstance(q, str)]
        return chat, questions

    # -- the document library ----------------------------------------------------------------------
    def _uploads(self) -> dict[str, str]:
        from ingest.uploads import UPLOAD_SUBDIR, list_uploads

        try:
            records = list_uploads(self.settings.corpus_dir)
        except (OSError, ValueError):  # an unreadable ledger only loses the «Tải lên» column
            return {}
        return {f"{UPLOAD_SUBDIR}/{r.name}": render.upload_note(r) for r in records}

    def library(self, text: str = "", province: str | None = "", sort: str | None = "") -> Any:
        flt = render.DocFilter(text=text or "", province=province or "", sort=sort or "Tiêu đề")
        return render.doc_rows(self.assistant.documents(), flt, self._uploads())

    def refreshed(self, text: str = "", province: str | None = "", sort: str | None = "") -> tuple[Any, ...]:
        docs = self.assistant.documents()
        provs, doc_choices = render.filter_choices(docs)
        return (
            render.doc_rows(
                docs, render.DocFilter(text or "", province or "", sort or "Tiêu đề"), self._uploads()
            ),
            gr.Dropdown(choices=provs),
            gr.Dropdown(choices=doc_choices),
            gr.Dropdown(choices=["", *provs]),
            gr.Dropdown(choices=vi_uploads(docs), value=None),
            gr.Dropdown(
                choices=[
                    (f"{d.title} ({d.source})", d.source)
                    for d in sorted(docs, key=lambda d: render.vi_sort_key(d.title))
                ]
            ),
        )

    def reload_docs(
        self, text: str = "", province: str | None = "", sort: str | None = ""
    ) -> tuple[Any, ...]:
        self.assistant.reload()
        return self.refreshed(text, province, sort)

    def ingest(
        self,
        files: list[str] | None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        from ingest.index import IndexError_
        from ingest.uploads import ingest_uploads

        skip = gr.skip()
        if not files:
            return ("Chưa chọn tệp nào để nạp.", "", skip, skip, skip, skip, skip, skip, skip)
        paths = [Path(f) for f in files]

        def tick(i: int, n: int, name: str) -> None:
            label = f"Đang nạp tệp {min(i + 1, n)}/{n}: {name}" if name else "Đang cập nhật chỉ mục"
            progress((i, n), desc=label, unit="tệp")

        user = getattr(request, "username", None) or ""
        client = request.client.host if request is not None and request.client else ""
        try:
            result = ingest_uploads(
                self.assistant,
                self.settings,
                [(p.name, p) for p in paths],
                tick,
                max_bytes=int(self.settings.max_upload_mb * 1024 * 1024),
                sender=user or f"khách@{client or '?'}",
                client=client,
            )
        except IndexError_ as e:
            return (
                "**Chưa nạp được:** chỉ mục không ghi được (đĩa đầy hoặc chỉ đọc). Xem «Chi tiết kỹ thuật».",
                render.md_text(str(e)),
                *(skip,) * 7,
            )
        lines = []
        changed = result.added + result.updated
        if result.files and changed:
            lines.append(f"**Đã nạp:** {', '.join(render.md_text(f) for f in result.files)}")
        elif result.files:
            lines.append(
                f"**Không đổi** (đã có sẵn, nội dung như cũ): {', '.join(render.md_text(f) for f in result.files)}"
            )
        for sent, kept in result.renamed.items():
            lines.append(
                f"Tệp «{render.md_text(sent)}» đã có bản khác cùng tên; bản mới lưu là «{render.md_text(kept)}»."
            )
        if result.errors:
            lines.append(f"**{len(result.errors)} tệp lỗi:**")
            lines += [f"- {render.md_text(plain_error(err))}" for err in result.errors]
        details = "\n".join(f"- {render.md_text(err)}" for err in [*result.errors, result.summary] if err)
        table, provs, docs, lib_provs, uploads, picker = self.refreshed()
        return ("\n\n".join(lines), details, table, provs, docs, lib_provs, uploads, picker, None)

    def pick_document(self, source: str | None) -> tuple[Any, ...]:
        """Fill the correction form with the chosen document's current values."""
        doc = next((d for d in self.assistant.documents() if d.source == source), None)
        if doc is None:
            return ("", "", "", "", "")
        return (doc.title, doc.province, doc.doc_type, "", doc.period)

    def save_metadata(
        self,
        source: str | None,
        title: str | None = "",
        province: str | None = "",
        doc_type: str | None = "",
        date: str | None = "",
        period: str | None = "",
    ) -> tuple[Any, ...]:
        """Correct a document's title, province, type, date or period (its sidecar), then re-index it.

        Empty fields are left as they are. Only a document inside the corpus folder can be named.
        """
        from ingest.corpus import MetaError, write_sidecar
        from ingest.index import IndexError_

        skip = gr.skip()
        root = Path(self.settings.corpus_dir).resolve()
        known = {d.source for d in self.assistant.documents()}
        path = (root / (source or "")).resolve()
        if not source or source not in known or not path.is_relative_to(root) or not path.is_file():
            return ("Chọn một tài liệu trong danh sách.", skip, skip, skip, skip, skip, skip)
        given = {"title": title, "province": province, "doc_type": doc_type, "date": date, "period": period}
        fields = {k: str(v).strip() for k, v in given.items() if v and str(v).strip()}
        if not fields:
            return ("Chưa có thông tin nào để lưu.", skip, skip, skip, skip, skip, skip)
        try:
            write_sidecar(path, fields)
            self.assistant.ingest([path])
        except MetaError as e:
            return (render.md_text(plain_error(str(e))), skip, skip, skip, skip, skip, skip)
        except IndexError_:
            return ("Chưa lưu được: chỉ mục không ghi được.", skip, skip, skip, skip, skip, skip)
        table, provs, docs, lib_provs, uploads, picker = self.refreshed()
        return (
            f"Đã lưu thông tin của «{render.md_text(source)}».",
            table,
            provs,
            docs,
            lib_provs,
            uploads,
            picker,
        )

    def delete(self, name: str | None, confirm: bool) -> tuple[Any, ...]:
        """Delete one upload (file, sidecar, ledger record, chunks) — the API's ``DELETE /uploads``."""
        from ingest.index import IndexError_
        from ingest.uploads import UPLOAD_SUBDIR, UploadRejected, delete_upload

        skip = gr.skip()
        if not name:
            return ("Chọn một tệp tải lên để xóa.", skip, skip, skip, skip, skip, skip)
        if not confirm:
            return ("Đánh dấu «Tôi chắc chắn muốn xóa» rồi bấm lại.", skip, skip, skip, skip, skip, skip)
        plain = name.removeprefix(f"{UPLOAD_SUBDIR}/")
        try:
            record = delete_upload(self.settings, plain)
        except UploadRejected as e:
            return (render.md_text(plain_error(str(e))), skip, skip, skip, skip, skip, skip)
        except IndexError_:
            return ("Chưa xóa được: chỉ mục không ghi được.", skip, skip, skip, skip, skip, skip)
        self.assistant.reload()
        table, provs, docs, lib_provs, uploads, picker = self.refreshed()
        msg = f"Đã xóa «{render.md_text(plain)}»." if record else f"Không có tệp «{render.md_text(plain)}»."
        return (msg, table, provs, docs, lib_provs, uploads, picker)


# The outputs of an ask event, in order (``assistant.app`` wires the components in this order).
ASK_OUTPUT_NAMES = (
    "chat",
    "question",
    "sources",
    "markers",
    "answer",
    "questions",
    "answers",
    "copy",
    "download",
    "status",
    "search_all",
    "details",
)


def _out(**values: Any) -> tuple[Any, ...]:
    """One yield of an ask event: the named outputs, every other one left as it is."""
    unknown = set(values) - set(ASK_OUTPUT_NAMES)
    assert not unknown, unknown
    return tuple(values.get(name, gr.skip()) for name in ASK_OUTPUT_NAMES)


def vi_uploads(docs: list[Any]) -> list[str]:
    """Uploaded documents (the ones that can be deleted), in Vietnamese order of their file name."""
    return sorted((d.source for d in docs if d.source.startswith("uploads/")), key=render.vi_sort_key)


def _role(message: Any) -> str:
    if isinstance(message, dict):
        return str(message.get("role", ""))
    return str(getattr(message, "role", ""))


def _session(request: gr.Request | None) -> str:
    if request is None:
        return "-"
    return str(getattr(request, "session_hash", None) or "-")
