"""The ``nngrade`` command.  Each module registers its own commands on :data:`app`."""

from __future__ import annotations

import typer

app = typer.Typer(help="nngrade: grade NumPy neural-network exercises.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)

from . import selfcheck  # noqa: E402,F401  (registers list, show, start, check, exercises)
from . import server  # noqa: E402,F401  (registers serve, db, config)
from . import tokens  # noqa: E402,F401  (registers token)
from . import client  # noqa: E402,F401  (registers submit)
from . import course  # noqa: E402,F401  (registers assignment, extension, roster, status, gradebook, regrade, submissions)


def main() -> None:
    app()
