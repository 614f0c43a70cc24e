"""HTTP API for integrations: ``POST /ask``, ``GET /documents``, ``POST /ingest``, ``GET /health``.

``POST /ask`` returns exactly ``Answer.to_json()`` (the ``dtbd ask --json`` contract). The same
``create_api`` app is served alone by ``dtbd serve`` and, with the Gradio app mounted at ``/``,
by ``dtbd ui``. Endpoints are plain ``def`` functions: FastAPI runs them in its threadpool, so
a slow LLM call waits in ``llm_slot`` instead of blocking the event loop.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.llm import slot_stats
from assistant.settings import Settings

MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 20
UPLOAD_SUFFIXES: tuple[str, ...] = (".docx", ".pdf", ".txt", ".md")
UPLOAD_SUBDIR = "uploads"
_MULTIPART_OVERHEAD = 64 * 1024


# -- binding and login ----------------------------------------------------------------------
class BindRefused(SystemExit):
    """Exits the command (status 1, message on stderr) when asked to listen beyond loopback without a login."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_loopback(host: str) -> bool:
    if host.strip().lower() in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def auth_pair(settings: Settings) -> tuple[str, str] | None:
    if settings.auth_user and settings.auth_password:
        return settings.auth_user, settings.auth_password
    return None


def check_bind(settings: Settings, host: str | None = None) -> None:
    """Refuse to listen on a non-loopback address unless a login is configured."""
    host = settings.host if host is None else host
    if not is_loopback(host) and auth_pair(settings) is None:
        raise BindRefused(
            f"Từ chối mở cổng trên {host}: khi nghe ngoài 127.0.0.1 phải đặt DTBD_AUTH_USER và "
            f"DTBD_AUTH_PASSWORD. / Refusing to listen on {host}: binding beyond loopback requires "
            "DTBD_AUTH_USER and DTBD_AUTH_PASSWORD."
        )


# -- uploads --------------------------------------------------------------------------------
class UploadRejected(ValueError):
    pass


def safe_upload_name(name: str) -> str:
    """A file name safe to create inside the uploads folder, keeping Vietnamese letters and spaces.

    Directories are stripped (both ``/`` and ``\\``), ``..`` is refused, characters other than
    letters, digits, spaces and ``-_.()`` become ``_``, and the suffix must be one we ingest.
    """
    raw = unicodedata.normalize("NFC", name or "")
    if ".." in raw:
        raise UploadRejected(f"{raw!r}: tên tệp chứa '..' (file name contains '..')")
    base = re.split(r"[\\/]", raw)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "_", base)
    base = re.sub(r"[^\w\s().-]", "_", base)
    base = re.sub(r"\s+", " ", base).strip(" .")
    suffix = Path(base).suffix.lower()
    stem = base[: -len(suffix)].strip() if suffix else base
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRejected(
            f"{raw}: chỉ nhận tệp {', '.join(UPLOAD_SUFFIXES)} "
            f"(unsupported file type; accepted: {', '.join(UPLOAD_SUFFIXES)})"
        )
    if not stem:
        raise UploadRejected(f"{raw!r}: tên tệp trống (empty file name)")
    return stem[:120].rstrip(" .") + suffix


def upload_dir(settings: Settings) -> Path:
    return Path(settings.corpus_dir) / UPLOAD_SUBDIR


@dataclass
class UploadResult:
    """What ``POST /ingest`` returns and the UI shows."""

    files: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks_added: int = 0
    chunks_total: int = 0
    errors: list[str] = field(default_factory=list)
    summary: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ingest_uploads(
    assistant: Any,
    settings: Settings,
    items: Iterable[tuple[str, IO[bytes] | Path]],
    progress: Callable[[int, int, str], None] | None = None,
) -> UploadResult:
    """Save ``(name, content)`` uploads under ``corpus_dir/uploads`` and ingest them.

    Rejected files (type, size, name) and files the loader cannot read are reported per file in
    ``errors`` and leave nothing behind; the others are indexed and searchable at once.
    """
    result = UploadResult()
    dest_dir = upload_dir(settings)
    max_bytes = int(settings.max_upload_mb * 1024 * 1024)
    saved: dict[Path, tuple[str, bytes | None]] = {}  # path -> (shown name, previous content)
    for name, content in items:
        try:
            safe = safe_upload_name(name)
        except UploadRejected as e:
            result.errors.append(str(e))
            continue
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = dest_dir / safe
        if target.resolve().parent != dest_dir.resolve():  # belt and braces after sanitizing
            result.errors.append(f"{name}: tên tệp không hợp lệ (invalid file name)")
            continue
        previous = target.read_bytes() if target.exists() else None
        tmp = target.with_name(f".{safe}.part")
        size = 0
        too_big = False
        with tmp.open("wb") as out:
            src: IO[bytes] = content.open("rb") if isinstance(content, Path) else content
            try:
                while chunk := src.read(1024 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        too_big = True
                        break
                    out.write(chunk)
            finally:
                if isinstance(content, Path):
                    src.close()
        if too_big:
            tmp.unlink(missing_ok=True)
            result.errors.append(
                f"{safe}: tệp lớn hơn {settings.max_upload_mb:g} MB (file larger than {settings.max_upload_mb:g} MB)"
            )
            continue
        if size == 0:
            tmp.unlink(missing_ok=True)
            result.errors.append(f"{safe}: tệp rỗng (empty file)")
            continue
        tmp.replace(target)
        saved[target] = (safe, previous)
    if not saved:
        result.summary = "Không có tệp nào được nạp / no file was ingested"
        return result
    report = assistant.ingest(list(saved), progress=progress)
    failed: set[Path] = set()
    for err in report.errors:
        shown = err
        for path, (safe, _) in saved.items():
            if str(path) in err:
                failed.add(path)
                shown = err.replace(str(path), safe)
        result.errors.append(shown)
    for path in failed:  # a file we cannot read must not linger in the corpus
        previous = saved[path][1]
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(previous)
    result.files = [safe for path, (safe, _) in saved.items() if path not in failed]
    result.added = report.docs_added
    result.updated = report.docs_updated
    result.unchanged = report.docs_skipped
    result.chunks_added = report.chunks_added
    result.chunks_total = report.chunks_total
    result.summary = report.summary()
    return result


# -- request models ---------------------------------------------------------------------------
class AskRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"question": "Nghệ An đào tạo bao nhiêu thạc sỹ?", "mode": "qa", "history": []}]
        }
    )

    question: Annotated[str, Field(max_length=MAX_QUESTION_CHARS, description="Câu hỏi tiếng Việt")]
    mode: Literal["qa", "draft", "learn"] = Field(
        default="qa", description="qa = Hỏi đáp, draft = Soạn giải pháp, learn = Tìm hiểu"
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


class CitationModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    n: int
    doc_id: str
    source: str
    title: str
    province: str
    section: str
    start: int
    end: int
    quote: str


class AnswerModel(BaseModel):
    """Documentation of ``Answer.to_json()``; extra keys may be added later."""

    model_config = ConfigDict(extra="allow")
    answer: str
    refused: bool
    mode: str
    citations: list[CitationModel]
    timings_ms: dict[str, float]
    path: str
    resolved_question: str
    retrieved_sources: list[str]
    notes: list[str]


class ErrorModel(BaseModel):
    detail: str


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
        return "câu hỏi phải là chuỗi ký tự / 'question' must be a string"
    if where == "mode":
        return "chế độ không hợp lệ: dùng qa, draft hoặc learn / invalid mode: use qa, draft or learn"
    if where.startswith("history"):
        return (
            f"history phải là danh sách tối đa {MAX_HISTORY} câu hỏi trước / "
            f"'history' must be a list of at most {MAX_HISTORY} previous questions"
        )
    if where == "files" and kind == "missing":
        return "chưa gửi tệp nào (trường 'files') / no file sent (multipart field 'files')"
    if kind == "model_attributes_type" or not where:
        return "thân yêu cầu phải là một đối tượng JSON / request body must be a JSON object"
    return f"{where}: {err.get('msg', 'không hợp lệ / invalid')}"


def _too_large(limit: int) -> str:
    size = f"{limit / 1024 / 1024:.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"Yêu cầu quá lớn (tối đa {size}) / request body too large (max {size})"


class BodyLimit:
    """Per-path request size limit that answers 413 with a bilingual JSON message.

    ``Content-Length`` is checked before the endpoint runs; a body without one (chunked) is
    counted as it streams in.
    """

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await JSONResponse({"detail": _too_large(limit)}, status_code=413)(scope, receive, send)
                    return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise HTTPException(status_code=413, detail=_too_large(limit))
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, tracked)
        except HTTPException as e:
            if started or e.status_code != 413:
                raise
            await JSONResponse({"detail": e.detail}, status_code=413)(scope, receive, send)


# -- the app ----------------------------------------------------------------------------------
class _Utf8Basic(HTTPBasic):
    """HTTP Basic that decodes credentials as UTF-8 (RFC 7617), so Vietnamese passwords work."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, param = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            raw = base64.b64decode(param.strip(), validate=True)
        except (ValueError, binascii.Error):
            return None
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError:
            data = raw.decode("latin-1")
        username, sep, password = data.partition(":")
        return HTTPBasicCredentials(username=username, password=password) if sep else None


_basic = _Utf8Basic(auto_error=False, realm="Tro ly DTBD")


def create_api(assistant: Any, settings: Settings) -> FastAPI:
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
    api.add_middleware(BodyLimit, limits={"/ask": json_limit, "/ingest": upload_limit})

    login = auth_pair(settings)

    def require_login(creds: Annotated[HTTPBasicCredentials | None, Depends(_basic)]) -> None:
        if login is None:
            return
        ok = creds is not None and (
            secrets.compare_digest(creds.username.encode(), login[0].encode())
            & secrets.compare_digest(creds.password.encode(), login[1].encode())
        )
        if not ok:
            raise HTTPException(
                status_code=401,
                detail="Cần đăng nhập / authentication required",
                headers={"WWW-Authenticate": 'Basic realm="Tro ly DTBD"'},
            )

    guarded = [Depends(require_login)]

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @api.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            return JSONResponse({"detail": "JSON không hợp lệ / invalid JSON body"}, status_code=422)
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
        summary="Nạp tệp .docx/.pdf/.txt/.md vào chỉ mục / ingest uploaded files",
        dependencies=guarded,
        responses={413: {"model": ErrorModel}, 422: {"model": ErrorModel}, 503: {"model": ErrorModel}},
    )
    def ingest(files: Annotated[list[UploadFile], File(description="Một hoặc nhiều tệp")]) -> JSONResponse:
        try:
            result = ingest_uploads(assistant, settings, [(f.filename or "", f.file) for f in files])
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

    return api


def serve(settings: Settings) -> None:
    """``dtbd serve``: the API alone on ``settings.host:settings.api_port``."""
    import uvicorn

    from assistant.service import Assistant

    check_bind(settings)
    assistant = Assistant.from_settings(settings, ensure_index=True)
    app = create_api(assistant, settings)
    print(f"Trợ lý ĐTBD API: http://{settings.host}:{settings.api_port}/docs", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.api_port, log_level="info")


__all__ = [
    "AskRequest",
    "BindRefused",
    "UploadRejected",
    "check_bind",
    "create_api",
    "ingest_uploads",
    "safe_upload_name",
    "serve",
]
