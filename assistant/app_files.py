"""Files that cross the app's boundary: who uploaded what, and the .docx exports.

**Uploads (issue 11, item 1).** A Gradio event receives a file as a ``FileData`` whose ``path`` is
chosen by the client. Mounted inside our FastAPI app, Gradio does not check that path, so a client
could name any file on the server (``/etc/passwd``, ``corpus/…``, another user's upload) and have it
ingested. :class:`UploadGuard` is an ASGI middleware that closes this for every Gradio endpoint:

- it records, for each successful ``POST …/gradio_api/upload``, the paths Gradio returned and the
  client that sent them (its login session cookie, or its address when there is no login);
- it reads the JSON body of every ``POST`` that runs an event (``…/gradio_api/queue/join``,
  ``…/gradio_api/call/<name>``, ``…/gradio_api/run/<name>``) and answers **403** with a Vietnamese +
  English message when any ``FileData`` in it names a path that this same client did not upload.

**Exports (issue 11, item 7).** The .docx downloads live in one folder per server process under
``settings.export_dir``; folders left by earlier processes are removed at start and each folder
keeps only the newest :data:`EXPORTS_KEPT` files, so nothing piles up in ``/tmp``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.uploads import pid_alive

EVENT_PATHS = re.compile(r"/gradio_api/(queue/join|call/[^/]+|run/[^/]+|api/[^/]+)/?$")
UPLOAD_PATH = re.compile(r"/gradio_api/upload/?$")
MAX_EVENT_BODY = 4 * 1024 * 1024  # an event body is JSON of small values; larger ones are refused
MAX_TRACKED_UPLOADS = 50_000  # oldest upload records are forgotten beyond this (memory bound)
EXPORTS_KEPT = 200  # .docx files kept per server process (each is a few KB)
STALE_EXPORT_S = 24 * 3600  # export folders of earlier processes older than this are removed


def _client_key(scope: Scope) -> str:
    """The identity of one client: its login cookie(s) when logged in, else its address."""
    cookies = ""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookies = value.decode("latin-1")
    tokens = sorted(p.strip() for p in cookies.split(";") if p.strip().startswith("access-token"))
    host = (scope.get("client") or ("?", 0))[0]
    return f"{host}|{'|'.join(tokens)}"


def _file_paths(value: Any) -> Iterator[str]:
    """Every ``path`` of a FileData-like dict anywhere in a JSON value."""
    if isinstance(value, dict):
        meta = value.get("meta")
        is_file = isinstance(meta, dict) and meta.get("_type") == "gradio.FileData"
        if (is_file or "orig_name" in value) and isinstance(value.get("path"), str):
            yield value["path"]
        for v in value.values():
            yield from _file_paths(v)
    elif isinstance(value, list):
        for v in value:
            yield from _file_paths(v)


def _norm(path: str) -> str:
    return os.path.realpath(path)


class UploadGuard:
    """ASGI middleware: a file given to a Gradio event must be one this client uploaded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def owner(self, path: str) -> str | None:
        with self._lock:
            return self._owners.get(_norm(path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if UPLOAD_PATH.search(path):
            await self._record_upload(scope, receive, send)
        elif EVENT_PATHS.search(path):
            await self._check_event(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _record_upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _client_key(scope)
        status = 0
        body = bytearray()
        start: Message | None = None

        async def capture(message: Message) -> None:
            nonlocal status, start
            if message["type"] == "http.response.start":
                status = message["status"]
                start = message
                return
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                if status == 200:
                    self._remember(bytes(body), key)
                assert start is not None
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body), "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, capture)

    def _remember(self, body: bytes, key: str) -> None:
        try:
            paths = json.loads(body)
        except ValueError:
            return
        if not isinstance(paths, list):
            return
        with self._lock:
            for p in paths:
                if isinstance(p, str):
                    self._owners[_norm(p)] = key
            while len(self._owners) > MAX_TRACKED_UPLOADS:
                self._owners.pop(next(iter(self._owners)))

    async def _check_event(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_EVENT_BODY:
                await _refuse(send, 413, "Yêu cầu quá lớn / request body too large")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None  # not JSON: Gradio answers it with its own 4xx
        key = _client_key(scope)
        for p in _file_paths(payload):
            if self.owner(p) != key:
                name = os.path.basename(p) or p
                await _refuse(
                    send,
                    403,
                    f"Tệp «{name}» không phải do phiên này tải lên; chỉ nạp được tệp vừa tải lên qua "
                    f"ứng dụng. / File {name!r} was not uploaded by this client; only files uploaded "
                    "through this app can be used.",
                )
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, detail: str) -> None:
    data = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data, "more_body": False})


# -- .docx exports ---------------------------------------------------------------------------------
class ExportFolder:
    """One folder of .docx downloads for this server process, pruned as it grows."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        now = time.time()
        for old in root.glob("run-*"):  # earlier processes' folders
            try:
                if now - old.stat().st_mtime > STALE_EXPORT_S or not _pid_alive(old.name):
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                continue
        self.path = root / f"run-{os.getpid()}-{secrets.token_hex(4)}"
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def new_file(self, name: str) -> Path:
        with self._lock:
            files = sorted(self.path.glob("*.docx"), key=lambda p: p.stat().st_mtime)
            for p in files[: max(0, len(files) - EXPORTS_KEPT + 1)]:
                p.unlink(missing_ok=True)
        return self.path / name

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _pid_alive(folder_name: str) -> bool:
    try:
        pid = int(folder_name.split("-")[1])
    except (ValueError, IndexError):
        return False
    return pid == os.getpid() or pid_alive(pid)
