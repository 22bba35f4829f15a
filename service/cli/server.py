"""``nngrade serve``, ``nngrade db upgrade|current`` and ``nngrade config``: running the service."""

from __future__ import annotations

import errno
import json
import logging
import socket
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from service.config import Settings, get_settings

from . import app

db_app = typer.Typer(help="The service's database (SQLite in the data directory, or DATABASE_URL).",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")

SECRET_WORDS = ("password", "secret", "token", "key")


def settings_with(**overrides: Any) -> Settings:
    """The environment's settings with the command line's options on top, validated again."""
    base = get_settings()
    given = {k: v for k, v in overrides.items() if v is not None}
    return base.model_copy(update=given) if given else base


def effective(settings: Settings) -> dict[str, Any]:
    """Every setting as it is in effect, secrets masked (passwords inside URLs too)."""
    from service.db.engine import masked_url

    shown: dict[str, Any] = {}
    for name, value in settings.model_dump(mode="json").items():
        if name.endswith("_url") and value:
            value = masked_url(value)
        elif any(word in name for word in SECRET_WORDS) and value:
            value = "***"
        shown[name] = value
    shown["database"] = masked_url(settings.sqlalchemy_url)
    return shown


@app.command()
def serve(
        host: Annotated[Optional[str], typer.Option(help="Interface to listen on [NNGRADE_HOST].")] = None,
        port: Annotated[Optional[int], typer.Option(help="Port [NNGRADE_PORT].")] = None,
        workers: Annotated[Optional[int], typer.Option(help="Grading workers; 0 = one per core [NNGRADE_WORKERS].")]
        = None,
        data_dir: Annotated[Optional[Path], typer.Option(help="Data directory [NNGRADE_DATA_DIR].")] = None,
) -> None:
    """Serve the grading service: the API, and grading workers in this process.

    With no DATABASE_URL it needs nothing else: a SQLite database in the data directory,
    migrated at start.
    """
    import uvicorn

    from service.api import create_app
    from service.api.connections import protocol
    from service.db import lock
    from service.db.engine import masked_url, sqlite_dir_of

    settings = settings_with(host=host, port=port, workers=workers, data_dir=data_dir)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    listening = listen(settings.host, settings.port)  # first: a port in use is found before any start-up work
    sqlite_dir = sqlite_dir_of(settings.sqlalchemy_url)
    if sqlite_dir is not None:
        try:
            lock.hold(sqlite_dir)
        except lock.DataDirBusy as exc:
            listening.close()
            typer.echo(f"nngrade serve: {exc}", err=True)
            raise typer.Exit(1) from None
    application = create_app(settings)
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(f"nngrade {url}/api/v1 (docs: {url}/api/v1/docs) — database {masked_url(settings.sqlalchemy_url)}, "
               f"runner {settings.runner}", err=False)
    typer.echo(f"instructors' dashboard: {url}/dashboard/", err=False)
    config = uvicorn.Config(application, host=settings.host, port=settings.port, log_level=settings.log_level,
                            timeout_graceful_shutdown=15, proxy_headers=False, timeout_keep_alive=5,
                            http=protocol(settings.header_timeout), loop="uvloop")
    uvicorn.Server(config).run(sockets=[listening])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening; exit with a message naming the options if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it
    # every keep-alive response waits ~40 ms for a delayed ACK (Nagle between its headers and body).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        typer.echo(f"nngrade serve: port {port} on {host} {reason}; choose another with --port or NNGRADE_PORT "
                   f"(and --host or NNGRADE_HOST for the interface).", err=True)
        raise typer.Exit(1) from None
    sock.set_inheritable(True)
    return sock


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply the schema migrations (the embedded default does this itself at start)."""
    from service.db import Database
    from service.db.engine import masked_url
    from service.db.migrate import upgrade

    settings = get_settings()
    db = Database.from_settings(settings)
    try:
        now = upgrade(db, revision)
    finally:
        db.dispose()
    typer.echo(f"{masked_url(db.url)}: schema at revision {now}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema's revision and the newest one this version knows."""
    from service.db import Database
    from service.db.migrate import current_revision, head_revision

    db = Database.from_settings(get_settings())
    try:
        now = current_revision(db)
    finally:
        db.dispose()
    head = head_revision()
    typer.echo(f"current {now or '(empty database)'}; head {head}" + ("" if now == head else
                                                                       " — run `nngrade db upgrade`"))


@app.command("config")
def show_config(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the effective settings (from NNGRADE_* variables and DATABASE_URL), secrets masked."""
    shown = effective(get_settings())
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    width = max(map(len, shown))
    for name, value in shown.items():
        typer.echo(f"{name:<{width}}  {value}")
