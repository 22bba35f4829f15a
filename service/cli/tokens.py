"""``nngrade token create|list|revoke``: bearer tokens for students and instructors."""

from __future__ import annotations

import json
from contextlib import contextmanager
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import app

token_app = typer.Typer(help="Bearer tokens for the service (only their hashes are stored).", no_args_is_help=True)
app.add_typer(token_app, name="token")
err = Console(stderr=True)


class Role(str, Enum):
    student = "student"
    instructor = "instructor"


@contextmanager
def database():
    """The service's database, migrated (a fresh data directory works at once)."""
    from service.config import get_settings
    from service.db import Database
    from service.db.migrate import upgrade

    db = Database.from_settings(get_settings())
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()


@token_app.command("create")
def create(role: Annotated[Role, typer.Option(help="What the token may do.")],
           name: Annotated[str, typer.Option(help="The student's or instructor's name (unique).")]) -> None:
    """Create a token and print it once, alone on the last line."""
    from service.db.tokens import TokenError, create_token

    with database() as db:
        try:
            with db.write_session() as session:
                token, plaintext = create_token(session, name=name, role=role.value)
                token_id = token.id
        except TokenError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    typer.echo(f"token {token_id} for {role.value} {name!r} (shown once; only its hash is stored):")
    typer.echo(plaintext)


@token_app.command("list")
def list_tokens(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List tokens: id, user, role, prefix, created, revoked."""
    from service.db.tokens import list_tokens as rows

    with database() as db, db.session() as session:
        items = [{"id": t.id, "name": t.user.name, "role": t.user.role, "prefix": t.prefix,
                  "created_at": t.created_at.isoformat(timespec="seconds"),
                  "revoked_at": t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else None}
                 for t in rows(session)]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table(title="nngrade tokens")
    for column in ("id", "name", "role", "prefix", "created", "revoked"):
        table.add_column(column)
    for t in items:
        table.add_row(str(t["id"]), escape(t["name"]), t["role"], t["prefix"] + "…", t["created_at"],
                      t["revoked_at"] or "")
    Console().print(table)


@token_app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(help="The token's id (see `nngrade token list`).")]) -> None:
    """Revoke a token: requests with it get 401 from now on."""
    from service.db.tokens import TokenError, revoke as revoke_token

    with database() as db:
        try:
            with db.write_session() as session:
                token = revoke_token(session, token_id)
                who = f"{token.user.role} {token.user.name!r}"
        except TokenError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    typer.echo(f"revoked token {token_id} of {who}")
