"""Limits on request bodies, enforced while they stream in (before any parsing): their size and
the time they take.

Two sizes, each with its own error: a *file* is at most ``max_upload_bytes`` (checked by the
submissions endpoint: 413 ``file-too-large``); a *request* may be larger than its file (a JSON
string may escape every byte as ``\\u00XX``, six bytes, plus the multipart envelope), and this
middleware stops bodies beyond that (413 ``request-too-large``) so that no request can make
the service buffer gigabytes.  A body that takes longer than ``seconds`` to arrive gets 408
``request-timeout``.  A client that goes away mid-upload is logged in one line.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import Settings

from .errors import error_response

log = logging.getLogger("nngrade.api")


def request_limit(settings: Settings) -> int:
    """The largest request body: a file escaped in JSON (6 bytes per byte), plus 64 KiB of envelope."""
    return 6 * settings.max_upload_bytes + 64 * 1024


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, file_bytes: int, seconds: float):
        self.app = app
        self.max_bytes = max_bytes
        self.file_bytes = file_bytes
        self.seconds = seconds

    def _refuse(self):
        return error_response(413, "request-too-large",
                              f"The request body is larger than {self.max_bytes} bytes, the most this service reads "
                              f"for one request; the file in it may be at most {self.file_bytes} bytes.")

    def _timeout(self):
        return error_response(408, "request-timeout", f"The request body did not arrive within {self.seconds:g} s.",
                              headers={"Connection": "close"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_large = int(value) > self.max_bytes
                except ValueError:
                    too_large = False
                if too_large:
                    await self._refuse()(scope, receive, send)
                    return
        received = 0
        started = False
        body_done = False
        deadline = time.monotonic() + self.seconds

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise BodyTimeout() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse()(scope, receive, send)
        except BodyTimeout:
            log.warning("%s %s: the body did not arrive within %g s", scope.get("method"), scope.get("path"),
                        self.seconds)
            if not started:
                await self._timeout()(scope, receive, send)
        except ClientDisconnect:
            client = scope.get("client") or ("?", 0)
            log.info("%s %s: the client %s went away before sending the whole body (%d bytes received)",
                     scope.get("method"), scope.get("path"), client[0], received)
