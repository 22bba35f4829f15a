"""HTTP connections that must send their request headers in time (slowloris).

uvicorn times out idle keep-alive connections, and :class:`~service.api.limits.BodyLimit`
times out slow bodies, but nothing bounds how long a client may take to send the headers
of a request: :func:`protocol` makes uvicorn's httptools protocol (the C parser: a thousand
requests arriving at once cost the event loop a fraction of what pure-Python h11 costs) close a
connection whose headers are not complete ``seconds`` after its first byte (or after it connected).
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("nngrade.api")


class HeaderTimeoutProtocol(HttpToolsProtocol):
    header_seconds = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_seconds, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_headers():
            self._arm()  # a new request has begun to arrive (or not yet completely)
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            client = "%s:%d" % self.client if self.client else "?"
            log.info("closed the connection of %s: no complete request headers within %g s", client,
                     self.header_seconds)
            self.transport.close()


def protocol(seconds: float) -> type[HeaderTimeoutProtocol]:
    """uvicorn's httptools protocol with a header timeout of ``seconds`` (for ``uvicorn.Config(http=...)``)."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_seconds": seconds})
