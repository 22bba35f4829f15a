"""The ``nngrade`` command.  Each module registers its own commands on :data:`app`."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="nngrade: grade NumPy neural-network exercises.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)


def _print_version(asked: bool) -> None:
    if asked:
        import nngrade

        typer.echo(f"nngrade {nngrade.__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                                   help="Print the version and exit.")] = False) -> None:
    """nngrade: grade NumPy neural-network exercises."""


from . import selfcheck  # noqa: E402,F401  (registers list, show, start, check, exercises)
from . import server  # noqa: E402,F401  (registers serve, db, config)
from . import tokens  # noqa: E402,F401  (registers token)
from . import client  # noqa: E402,F401  (registers submit)
from . import course  # noqa: E402,F401  (registers assignment, extension, roster, status, gradebook, regrade, submissions)
from . import worker  # noqa: E402,F401  (registers worker)


def main() -> None:
    app()
