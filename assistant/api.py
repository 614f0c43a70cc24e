"""HTTP API for integrations: ``POST /ask``, ``GET /documents``, ``POST /ingest``, ``GET /uploads``,
``DELETE /uploads/{name}``, ``GET /health``.

A thin layer: routes translate requests into calls on the assistant (``assistant.service``) and
the upload store (``ingest.uploads``); bind, login and origin policy live in
``assistant.web_policy``. What stays here: request/answer schemas, error mapping (every error a
Vietnamese + English ``detail``), the body guard (size limits answered 413, bodies that stop
arriving answered 408) and ``serve``.

``POST /ask`` returns exactly ``Answer.to_json()`` (the ``dtbd ask --json`` contract). The same
``create_api`` app is served alone by ``dtbd serve`` and, with the Gradio app mounted at ``/``,
by ``dtbd ui``. Read endpoints are plain ``def`` functions (FastAPI's threadpool); uploads run
one at a time on their own worker thread, so files waiting to be ingested never take the
threads that answer questions.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.llm import slot_stats
from assistant.modes import MODE_NAMES, REGISTRY
from assistant.settings import Settings
from assistant.types import AnswerModel
from assistant.web_policy import (
    BindRefused,
    OriginGuard,
    auth_pair,
    check_bind,
    client_of,
    login_dependency,
    sender_of,
)
from ingest import uploads
from ingest.index import status as index_status
from ingest.uploads import UPLOAD_SUFFIXES, UploadRejected, UploadResult, safe_upload_name

if TYPE_CHECKING:
    from assistant.service import Assistant

MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 20
_MULTIPART_OVERHEAD = 64 * 1024


def ingest_uploads(
    assistant: Assistant,
    settings: Settings,
    items: Iterable[tuple[str, IO[bytes] | Path]],
    progress: Callable[[int, int, str], None] | None = None,
    *,
    sender: str = "",
    client: str = "",
    replace: bool = False,
) -> UploadResult:
    """Store and index uploads (``ingest.uploads.ingest_uploads`` with the serving size limit)."""
    return uploads.ingest_uploads(
        assistant,
        settings,
        items,
        progress,
        max_bytes=int(settings.max_upload_mb * 1024 * 1024),
        sender=sender,
        client=client,
        replace=replace,
    )


# -- request models ---------------------------------------------------------------------------
# The API's `mode` values are the registry's names (a new mode is accepted without touching this file).
ModeName = Literal[MODE_NAMES]  # type: ignore[valid-type]


class AskRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"question": "Nghệ An đào tạo bao nhiêu thạc sỹ?", "mode": "qa", "history": []}]
        }
    )

    question: Annotated[str, Field(max_length=MAX_QUESTION_CHARS, description="Câu hỏi tiếng Việt")]
    mode: ModeName = Field(  # type: ignore[valid-type]
        default="qa", description=", ".join(f"{m.name} = {m.label}" for m in REGISTRY.values())
    )
    history: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Các câu hỏi trước, cũ nhất trước"
    )
    provinces: list[str] | None = Field(default=None, description="Chỉ tìm trong các tỉnh này")
    doc_ids: list[str] | None = Field(default=None, description="Chỉ tìm trong các tài liệu này")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty question")
        return v.strip()


class ErrorModel(BaseModel):
    detail: str


class MetaEdit(BaseModel):
    """Corrections to an upload's metadata; an empty string clears a field (inferred again)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    province: str | None = None
    issuing_body: str | None = None
    doc_type: str | None = None
    date: str | None = None
    period: str | None = None
    source: str | None = None


# -- errors -----------------------------------------------------------------------------------
def _message_for(err: dict[str, Any]) -> str:
    loc = [str(x) for x in err.get("loc", ()) if x != "body"]
    kind = err.get("type", "")
    where = ".".join(loc)
    if kind == "json_invalid":
        return "JSON không hợp lệ / invalid JSON body"
    if where == "question":
        if kind == "missing":
            return "thiếu câu hỏi / 'question' is required"
        if kind == "string_too_long":
            return (
                f"câu hỏi quá dài (tối đa {MAX_QUESTION_CHARS} ký tự) / "
                f"question too long (max {MAX_QUESTION_CHARS} characters)"
            )
        if kind == "value_error":
            return "câu hỏi trống / empty question"
        if kind == "string_unicode":
            return (
                "câu hỏi chứa ký tự Unicode không hợp lệ (nửa cặp thay thế) / "
                "question contains invalid Unicode (a lone surrogate)"
            )
        return "câu hỏi phải là chuỗi ký tự / 'question' must be a string"
    if where == "mode":
        *first, last = MODE_NAMES
        return (
            f"chế độ không hợp lệ: dùng {', '.join(first)} hoặc {last} / "
            f"invalid mode: use {', '.join(first)} or {last}"
        )
    if where.startswith("history"):
        return (
            f"history phải là danh sách tối đa {MAX_HISTORY} câu hỏi trước / "
            f"'history' must be a list of at most {MAX_HISTORY} previous questions"
        )
    if where == "files" and kind == "missing":
        return "chưa gửi tệp nào (trường 'files') / no file sent (multipart field 'files')"
    if where.startswith("files"):
        return "trường 'files' phải là tệp tải lên / multipart field 'files' must hold uploaded files"
    if kind == "string_unicode":
        return f"{where}: ký tự Unicode không hợp lệ / invalid Unicode"
    if kind == "extra_forbidden":
        return f"{where}: trường không được phép / field not allowed"
    if kind == "model_attributes_type" or not where:
        return "thân yêu cầu phải là một đối tượng JSON / request body must be a JSON object"
    return f"{where}: {err.get('msg', 'không hợp lệ / invalid')}"


def _client_error(detail: str) -> str:
    """Starlette's English-only 400 messages (multipart parsing) said in Vietnamese too."""
    if detail == "There was an error parsing the body":
        return "JSON không hợp lệ / invalid JSON body"
    if "boundary" in detail.lower():
        return "Yêu cầu multipart thiếu boundary / multipart body without a boundary"
    return f"Yêu cầu không hợp lệ / bad request: {detail}"


def _timed_out(seconds: float) -> str:
    return (
        f"Hết thời gian chờ thân yêu cầu ({seconds:g} s): dữ liệu gửi ít hơn đã báo / "
        f"request body timed out after {seconds:g} s (fewer bytes arrived than announced)"
    )


class BodyGuard:
    """Per-path request size limits (413) and a read timeout for every request body (408).

    ``Content-Length`` is checked before the endpoint runs; a body without one (chunked) is
    counted as it streams in. Each wait for the next piece of a body is bounded by
    ``read_timeout_s``, so a client that promises more bytes than it sends cannot hold a
    connection (and a worker) open; once the body is complete, ``receive`` is passed through
    untouched (streaming responses wait on it for the disconnect).
    """

    def __init__(self, app: ASGIApp, limits: dict[str, int], read_timeout_s: float) -> None:
        self.app = app
        self.limits = limits
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope.get("path", ""))
        if limit is not None:
            for key, value in scope.get("headers", []):
                if key == b"content-length":
                    try:
                        too_big = int(value) > limit
                    except ValueError:
                        too_big = False
                    if too_big:
                        await JSONResponse({"detail": _too_large(limit)}, status_code=413)(
                            scope, receive, send
                        )
                        return
        received = 0
        body_done = False
        started = False

        async def guarded() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()
            try:
                msg = await asyncio.wait_for(receive(), timeout=self.read_timeout_s)
            except TimeoutError:
                raise HTTPException(status_code=408, detail=_timed_out(self.read_timeout_s)) from None
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if limit is not None and received > limit:
                    raise HTTPException(status_code=413, detail=_too_large(limit))
                if not msg.get("more_body", False):
                    body_done = True
            else:
                body_done = True
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, guarded, tracked)
        except HTTPException as e:
            if started or e.status_code not in (408, 413):
                raise
            headers = {"Connection": "close"} if e.status_code == 408 else None
            await JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=headers)(
                scope, receive, send
            )


BodyLimit = BodyGuard  # the old name


def _too_large(limit: int) -> str:
    size = f"{limit / 1024 / 1024:.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"Yêu cầu quá lớn (tối đa {size}) / request body too large (max {size})"


# -- the app ----------------------------------------------------------------------------------
class _IngestQueue:
    """Uploads run one at a time on their own thread; at most ``limit`` wait (else 503)."""

    def __init__(self, limit: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dtbd-ingest")
        self.limit = limit
        self.waiting = 0
        self.running = 0
        self.served = 0
        self._lock = threading.Lock()

    async def run(self, fn: Callable[[], UploadResult]) -> UploadResult:
        with self._lock:
            if self.waiting >= self.limit:
                raise HTTPException(
                    status_code=503,
                    detail=(
                        f"Đang có {self.waiting} lượt nạp tệp chờ; thử lại sau / "
                        f"{self.waiting} uploads already waiting; try again later"
                    ),
                    headers={"Retry-After": "10"},
                )
            self.waiting += 1

        def job() -> UploadResult:
            with self._lock:
                self.waiting -= 1
                self.running += 1
            try:
                return fn()
            finally:
                with self._lock:
                    self.running -= 1
                    self.served += 1

        return await asyncio.wrap_future(self.pool.submit(job))

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "running": self.running,
                "waiting": self.waiting,
                "served": self.served,
                "limit": self.limit,
            }


def create_api(assistant: Assistant, settings: Settings) -> FastAPI:
    """The FastAPI app over one ``Assistant``; ``dtbd ui`` mounts the Gradio app beside it."""
    from ingest.index import IndexError_

    api = FastAPI(
        title="Trợ lý ĐTBD API",
        version="0.1.0",
        description=(
            "Hỏi đáp có trích dẫn về đào tạo, bồi dưỡng cán bộ. `POST /ask` trả về đúng JSON của "
            "`dtbd ask --json`. Mọi số liệu trong câu trả lời đều có trích dẫn."
        ),
    )
    json_limit = int(settings.max_request_bytes)
    upload_limit = int(settings.max_upload_mb * 1024 * 1024) + _MULTIPART_OVERHEAD
    api.add_middleware(
        BodyGuard,
        limits={"/ask": json_limit, "/ingest": upload_limit},
        read_timeout_s=settings.body_timeout_s,
    )
    api.add_middleware(OriginGuard, allowed=settings.allowed_origins)  # outermost: covers mounted apps

    uploads.recover_uploads(settings.corpus_dir)  # what a killed server left half saved
    queue = _IngestQueue(settings.max_waiting_ingests)
    guarded = [Depends(login_dependency(settings))]

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @api.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.detail, str):
            return JSONResponse({"detail": _client_error(exc.detail)}, status_code=422)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "type": e.get("type", ""), "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        message = "; ".join(dict.fromkeys(_message_for(e) for e in exc.errors()))
        return JSONResponse({"detail": message, "errors": errors}, status_code=422)

    @api.get("/health", summary="Tình trạng dịch vụ / service health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "documents": len(assistant.documents()),
            "chunks": len(assistant.passages),
            "llm": settings.llm,
            "llm_queue": slot_stats(settings),
            "ingest_queue": queue.stats(),
            "index": index_status(settings),  # chunks searchable, vectors still pending, indexing now
            **assistant.health(),  # index_id, generation, fallbacks (dense retrieval failed, reloads)
        }

    @api.post(
        "/ask",
        summary="Đặt câu hỏi / ask a question",
        dependencies=guarded,
        response_model=None,
        responses={
            200: {"model": AnswerModel, "description": "Answer.to_json(), như `dtbd ask --json`"},
            413: {"model": ErrorModel},
            422: {"model": ErrorModel},
        },
    )
    def ask(body: AskRequest) -> JSONResponse:
        try:
            answer = assistant.ask(
                body.question,
                mode=body.mode,
                history=body.history,
                provinces=body.provinces or None,
                doc_ids=body.doc_ids or None,
            )
        except ValueError as e:
            raise HTTPException(status_code=422, detail=str(e)) from e
        return JSONResponse(answer.to_json())

    @api.get("/documents", summary="Tài liệu đã nạp / indexed documents", dependencies=guarded)
    def documents() -> dict[str, Any]:
        docs = [asdict(d) for d in assistant.documents()]
        return {"documents": docs, "total": len(docs), "chunks": sum(d["chunks"] for d in docs)}

    @api.post(
        "/ingest",
        summary="Nạp tệp (Word, PDF, ảnh quét, Excel, văn bản) vào chỉ mục / ingest uploaded files",
        description=(
            "Tệp trùng tên nhưng khác nội dung được giữ bên cạnh tệp cũ (`tên (2).txt`), trừ khi "
            "`replace=true`. / A same-name upload is kept beside the old one unless `replace=true`."
        ),
        dependencies=guarded,
        responses={
            403: {"model": ErrorModel},
            413: {"model": ErrorModel},
            422: {"model": ErrorModel},
            503: {"model": ErrorModel},
        },
    )
    async def ingest(
        request: Request,
        files: Annotated[list[UploadFile], File(description="Một hoặc nhiều tệp")],
        replace: Annotated[bool, Query(description="Thay tệp cùng tên / replace a same-name upload")] = False,
    ) -> JSONResponse:
        sender, client = sender_of(request, settings), client_of(request)

        def job() -> UploadResult:
            items = [(f.filename or "", f.file) for f in files]
            return ingest_uploads(assistant, settings, items, sender=sender, client=client, replace=replace)

        try:
            result = await queue.run(job)
        except IndexError_ as e:
            raise HTTPException(status_code=503, detail=str(e)) from e
        finally:
            for f in files:
                f.file.close()
        status = 200 if result.files or not result.errors else 422
        body = result.to_json()
        if status == 422:
            body["detail"] = "; ".join(result.errors)
        return JSONResponse(body, status_code=status)

    @api.get(
        "/uploads",
        summary="Tệp đã tải lên: ai gửi, khi nào / uploads with sender and time",
        dependencies=guarded,
    )
    def list_uploads() -> dict[str, Any]:
        records = []
        for r in uploads.list_uploads(settings.corpus_dir):
            shown = r.to_json()
            for internal in ("pid", "backup", "previous"):
                shown.pop(internal, None)
            records.append(shown)
        return {"uploads": records, "total": len(records)}

    @api.patch(
        "/uploads/{name}",
        summary="Sửa siêu dữ liệu của một tệp đã tải lên / correct an upload's metadata",
        dependencies=guarded,
        responses={403: {"model": ErrorModel}, 404: {"model": ErrorModel}, 422: {"model": ErrorModel}},
    )
    async def edit_upload(request: Request, name: str, body: MetaEdit) -> JSONResponse:
        fields = {k: v for k, v in body.model_dump().items() if v is not None}
        sender = sender_of(request, settings)

        def job() -> UploadResult:
            path = uploads.write_upload_meta(settings, name, fields, sender=sender)
            if path is None:
                raise HTTPException(
                    status_code=404, detail=f"{name[:120]}: không có tệp tải lên này / no such upload"
                )
            report = assistant.ingest([path])
            return UploadResult(
                files=[path.name],
                updated=report.docs_updated,
                unchanged=report.docs_skipped,
                chunks_total=report.chunks_total,
                errors=[e.replace(str(path), path.name) for e in report.errors],
                summary=report.summary(),
            )

        try:
            result = await queue.run(job)
        except UploadRejected as e:
            raise HTTPException(status_code=422, detail=str(e)) from e
        except IndexError_ as e:
            raise HTTPException(status_code=503, detail=str(e)) from e
        return JSONResponse(result.to_json(), status_code=422 if result.errors else 200)

    @api.delete(
        "/uploads/{name}",
        summary="Xóa một tệp đã tải lên (cả khỏi chỉ mục) / delete an upload and its chunks",
        dependencies=guarded,
        responses={403: {"model": ErrorModel}, 404: {"model": ErrorModel}, 422: {"model": ErrorModel}},
    )
    def delete_upload(name: str) -> dict[str, Any]:
        try:
            record = uploads.delete_upload(settings, name)
        except UploadRejected as e:
            raise HTTPException(status_code=422, detail=str(e)) from e
        except IndexError_ as e:
            raise HTTPException(status_code=503, detail=str(e)) from e
        if record is None:
            raise HTTPException(
                status_code=404, detail=f"{name[:120]}: không có tệp tải lên này / no such upload"
            )
        assistant.reload()
        return {"deleted": record.name, "documents": len(assistant.documents())}

    return api


def serve(settings: Settings) -> None:
    """``dtbd serve``: the API alone on ``settings.host:settings.api_port``."""
    import uvicorn

    from assistant.service import Assistant

    check_bind(settings)
    assistant = Assistant.from_settings(settings, require_documents=True)
    app = create_api(assistant, settings)
    print(f"Trợ lý ĐTBD API: http://{settings.host}:{settings.api_port}/docs", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.api_port, log_level="info")


__all__ = [
    "MAX_QUESTION_CHARS",
    "UPLOAD_SUFFIXES",
    "AskRequest",
    "BindRefused",
    "BodyGuard",
    "UploadRejected",
    "auth_pair",
    "check_bind",
    "create_api",
    "ingest_uploads",
    "safe_upload_name",
    "serve",
]
