"""The course commands' link to the service: the same server and token as ``nngrade submit``
(options, ``NNGRADE_SERVER``/``NNGRADE_TOKEN``, or ``client.toml``), JSON requests, errors as one
red line, and dates shown in a time zone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from .client import _error_text, _fail, client_setting, config_path

Server = Annotated[Optional[str], typer.Option(help="Service URL [NNGRADE_SERVER].")]
Token = Annotated[Optional[str], typer.Option(help="Bearer token [NNGRADE_TOKEN].")]
TimeZone = Annotated[Optional[str], typer.Option(
    "--tz", help="IANA time zone the dates are in, e.g. Europe/Berlin [NNGRADE_TIMEZONE, `timezone` in "
                 "client.toml; default UTC].")]


@contextlib.contextmanager
def connect(server: str | None, token: str | None) -> Iterator[Any]:
    """An httpx client of the service with the caller's token."""
    import httpx

    server = client_setting("server", server)
    token = client_setting("token", token)
    if not server or not token:
        raise _fail(f"say which service: --server and --token, NNGRADE_SERVER and NNGRADE_TOKEN, or "
                    f"`server`/`token` in {config_path()}")
    try:
        with httpx.Client(base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                          timeout=120.0) as client:
            yield client
    except httpx.TransportError as exc:
        raise _fail(f"cannot reach {server}: {exc}") from None


def call(client, method: str, path: str, **kwargs) -> Any:
    """The JSON answer of ``METHOD /api/v1PATH``, or exit 2 with the service's error code and message."""
    response = client.request(method, "/api/v1" + path, **kwargs)
    if response.status_code >= 400:
        raise _fail(_error_text(response))
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


def timezone_name(given: str | None) -> str:
    name = client_setting("timezone", given) or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"unknown time zone {name!r}; expected an IANA name such as Europe/Berlin") from None
    return name


def date_option(value: str | None, what: str) -> str | None:
    """A date as typed (``2026-12-10 23:59``, ``2026-12-10T23:59+01:00``), checked and in ISO 8601; the
    service reads one without an offset in the time zone sent with it."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise _fail(f"{what}: {value!r} is not a date; expected e.g. '2026-12-10 23:59' or "
                    f"'2026-12-10T23:59+01:00'") from None


def shown(value: str | None, tz: str) -> str:
    """An ISO 8601 timestamp from the service as ``2026-12-10 23:59`` in ``tz``."""
    if not value:
        return ""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def score(value: float | None, of: float | None = None) -> str:
    """``11.33 / 19``: two decimals at most, as in the gradebook; ``—`` for no score."""
    if value is None:
        return "—"
    shown = f"{round(value, 2):g}"
    return shown if of is None else f"{shown} / {of:g}"
