"""Dashboard logins: an instructor's token exchanged for a signed, expiring session cookie, and the
CSRF tokens of its forms.

The cookie is ``<payload>.<signature>``: the payload names the user, the token that logged in and
the expiry; the signature is an HMAC-SHA256 under ``Settings.session_secret``.  Every request
re-checks that the token is still unrevoked and its user an instructor, so ``nngrade token
revoke`` ends the sessions it opened.  The CSRF token of a session is an HMAC of the cookie
(synchronizer token, nothing stored); before login a random value in a short-lived cookie must
match the login form's (double submit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy.orm import Session

from service.api.deps import Principal, ServiceState
from service.config import Settings
from service.db import Token
from service.db.tokens import active_token

COOKIE = "nngrade_session"
LOGIN_COOKIE = "nngrade_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_SECONDS = 600


class NotInstructor(Exception):
    """A valid token of a student."""


@dataclass(frozen=True)
class DashboardSession:
    """The logged-in instructor of a request and the CSRF token its forms carry."""

    user: Principal
    csrf: str


#: The key when no ``session_secret`` is set: this process's own, so its sessions end with it.
_PROCESS_KEY = secrets.token_bytes(32)


def _key(settings: Settings) -> bytes:
    if settings.session_secret is not None:
        return hashlib.sha256(settings.session_secret.get_secret_value().encode()).digest()
    return _PROCESS_KEY


def _sign(key: bytes, purpose: str, data: str) -> str:
    mac = hmac.new(key, f"{purpose}\0{data}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secure(request: Request) -> bool:
    """Whether the page was served over HTTPS (directly, or behind a proxy that says so)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def login(session: Session, settings: Settings, plaintext: str, *, now: float | None = None) -> str | None:
    """The cookie value for an instructor's token; None for an unknown or revoked token.

    Raises
    ------
    NotInstructor
        The token is valid but its user is a student.
    """
    token = active_token(session, plaintext.strip())
    if token is None:
        return None
    if token.user.role != "instructor":
        raise NotInstructor(token.user.name)
    expires = int((now or time.time()) + settings.session_hours * 3600)
    payload = _b64(json.dumps({"u": token.user_id, "t": token.id, "e": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_sign(_key(settings), 'session', payload)}"


def read(session: Session, settings: Settings, cookie: str | None, *, now: float | None = None
         ) -> DashboardSession | None:
    """The session of a cookie that is well signed, unexpired, of an unrevoked instructor token; else None."""
    if not cookie or "." not in cookie or len(cookie) > 400:
        return None
    payload, _, signature = cookie.partition(".")
    key = _key(settings)
    if not hmac.compare_digest(signature, _sign(key, "session", payload)):
        return None
    try:
        data = json.loads(_unb64(payload))
        user_id, token_id, expires = int(data["u"]), int(data["t"]), int(data["e"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires <= (now or time.time()):
        return None
    token = session.get(Token, token_id)
    if token is None or token.revoked_at is not None or token.user_id != user_id or token.user.role != "instructor":
        return None
    return DashboardSession(Principal(token.user.id, token.user.name, token.user.role),
                            _sign(key, "csrf", cookie))


def current(state: ServiceState, request: Request) -> DashboardSession | None:
    with state.db.session() as session:
        return read(session, state.settings, request.cookies.get(COOKIE))


def set_cookie(response: Response, request: Request, settings: Settings, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=int(settings.session_hours * 3600), path="/", httponly=True,
                        samesite="lax", secure=secure(request))


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure(request))


def login_csrf(request: Request) -> str:
    """The pre-login CSRF value: the browser's, or a new one (set it with :func:`set_login_csrf`)."""
    value = request.cookies.get(LOGIN_COOKIE, "")
    return value if 20 <= len(value) <= 100 else secrets.token_urlsafe(24)


def set_login_csrf(response: Response, request: Request, value: str) -> None:
    response.set_cookie(LOGIN_COOKIE, value, max_age=LOGIN_SECONDS, path="/dashboard", httponly=True,
                        samesite="strict", secure=secure(request))


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site (``Origin`` or ``Sec-Fetch-Site``)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin.rstrip("/") == f"{request.url.scheme}://{request.url.netloc}" or (
        secure(request) and origin.rstrip("/") == f"https://{request.url.netloc}")


def csrf_ok(request: Request, expected: str, submitted: str | None) -> bool:
    """A state-changing request carries the expected token and comes from this site."""
    return bool(submitted) and hmac.compare_digest(expected, submitted) and same_origin(request)
