"""Who may reach the web app and change the corpus: bind, login and origin policy.

* **Bind.** Listening beyond loopback needs a login (``check_bind``).
* **Login.** HTTP Basic, credentials decoded as UTF-8, compared in constant time
  (``login_dependency`` for FastAPI routes, ``check_credentials`` for anything else).
* **Origin.** A browser page from another site must not change anything here, with or
  without a login (cross-site form posts need no CORS approval). ``OriginGuard`` refuses every
  state-changing request (POST/PUT/PATCH/DELETE) whose ``Origin`` — or, without one, ``Referer``
  — is not this server's own origin or one listed in ``DTBD_ALLOWED_ORIGINS``, and takes the
  CORS approval headers off every answer to a foreign origin, so no other site (not even another
  port on localhost) reads answers with the user's credentials. Requests without either header
  (curl, scripts, the CLI) are not browser requests and pass to the login check.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
from collections.abc import Callable, Iterable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.settings import Settings

__all__ = [
    "BindRefused",
    "OriginGuard",
    "auth_pair",
    "check_bind",
    "check_credentials",
    "client_of",
    "foreign_origin",
    "is_loopback",
    "login_dependency",
    "sender_of",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
REALM = "Tro ly DTBD"
_CORS_HEADERS = (
    b"access-control-allow-origin",
    b"access-control-allow-credentials",
    b"access-control-allow-methods",
    b"access-control-allow-headers",
    b"access-control-expose-headers",
)


# -- binding --------------------------------------------------------------------------------
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


# -- login ----------------------------------------------------------------------------------
class _Utf8Basic(HTTPBasic):
    """HTTP Basic that decodes credentials as UTF-8 (RFC 7617), so Vietnamese passwords work."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        return basic_credentials(request.headers.get("Authorization"))


def basic_credentials(header: str | None) -> HTTPBasicCredentials | None:
    scheme, _, param = (header or "").partition(" ")
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


_basic = _Utf8Basic(auto_error=False, realm=REALM)


def check_credentials(settings: Settings, username: str, password: str) -> bool:
    """True when no login is configured, or these are its credentials (constant-time compare)."""
    login = auth_pair(settings)
    if login is None:
        return True
    return bool(
        secrets.compare_digest(username.encode(), login[0].encode())
        & secrets.compare_digest(password.encode(), login[1].encode())
    )


def login_dependency(settings: Settings) -> Callable[..., None]:
    """A FastAPI dependency: 401 unless the request carries the configured login (if any)."""

    def require_login(creds: Annotated[HTTPBasicCredentials | None, Depends(_basic)]) -> None:
        if auth_pair(settings) is None:
            return
        if creds is None or not check_credentials(settings, creds.username, creds.password):
            raise HTTPException(
                status_code=401,
                detail="Cần đăng nhập / authentication required",
                headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
            )

    return require_login


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def sender_of(request: Request, settings: Settings) -> str:
    """Who sent a write: the login user when there is one, else "khách@<client address>"."""
    creds = basic_credentials(request.headers.get("Authorization"))
    if auth_pair(settings) is not None and creds is not None:
        return creds.username
    return f"khách@{client_of(request) or '?'}"


# -- origin ---------------------------------------------------------------------------------
def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-case, default ports dropped; None if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def foreign_origin(
    headers: Iterable[tuple[bytes, bytes]], scheme: str, allowed: Iterable[str] = ()
) -> str | None:
    """The foreign origin a request comes from, or None if same-origin (or not from a browser).

    Same-origin means the ``Origin`` (else ``Referer``) equals ``scheme://Host`` of this very
    request; ``Origin: null`` (sandboxed frames, local files) is always foreign.
    """
    h: dict[bytes, str] = {}
    for k, v in headers:
        h.setdefault(k.lower(), v.decode("latin-1"))
    sent = h.get(b"origin")
    if sent is None:
        referer = h.get(b"referer")
        if not referer:
            return None
        sent = referer
    own = _origin_of(f"{scheme}://{h.get(b'host', '')}")
    theirs = _origin_of(sent)
    ok = {own} | {_origin_of(a) for a in allowed}
    if theirs is not None and theirs in ok:
        return None
    return sent.strip() or "null"


def _refusal(origin: str) -> JSONResponse:
    shown = origin[:200]
    return JSONResponse(
        {
            "detail": (
                f"Từ chối yêu cầu ghi từ nguồn khác ({shown}): chỉ trang của chính ứng dụng mới được "
                f"thay đổi dữ liệu / cross-origin write refused ({shown}); add the origin to "
                "DTBD_ALLOWED_ORIGINS to allow it"
            )
        },
        status_code=403,
    )


class OriginGuard:
    """ASGI middleware: no writes from foreign origins, no CORS approval for them.

    Wrap the outermost app (the API with Gradio mounted), so every route — the API's and
    Gradio's own ``/gradio_api/*`` — is covered.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = tuple(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scheme = str(scope.get("scheme", "http"))
        origin = foreign_origin(scope.get("headers", []), scheme, self.allowed)
        if origin is None:
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "GET")).upper()
        if method not in SAFE_METHODS or (
            method == "OPTIONS" and any(k == b"access-control-request-method" for k, _ in scope["headers"])
        ):
            await _refusal(origin)(scope, receive, send)
            return

        async def no_cors(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                msg = {
                    **msg,
                    "headers": [(k, v) for k, v in msg.get("headers", []) if k.lower() not in _CORS_HEADERS],
                }
            await send(msg)

        await self.app(scope, receive, no_cors)
