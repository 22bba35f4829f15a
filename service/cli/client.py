"""``nngrade submit``: send a file to the grading service and print the report as ``nngrade check`` does.

The server and the token come from ``--server``/``--token``, else ``NNGRADE_SERVER``/``NNGRADE_TOKEN``,
else the config file ``~/.config/nngrade/client.toml`` (``NNGRADE_CLIENT_CONFIG`` names another)::

    server = "http://127.0.0.1:8000"
    token = "nng_…"
"""

from __future__ import annotations

import json
import os
import time
import tomllib
import uuid
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from . import app
from .render import print_report
from .selfcheck import solution_file

err = Console(stderr=True)
console = Console()
TERMINAL = ("done", "failed")


def config_path() -> Path:
    explicit = os.environ.get("NNGRADE_CLIENT_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nngrade" / "client.toml"


def client_setting(name: str, given: str | None) -> str | None:
    """An option's value: the command line, else ``NNGRADE_<NAME>``, else the config file."""
    if given:
        return given
    from_env = os.environ.get(f"NNGRADE_{name.upper()}")
    if from_env:
        return from_env
    path = config_path()
    if path.is_file():
        try:
            value = tomllib.loads(path.read_text(encoding="utf-8")).get(name)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            err.print(f"[yellow]{path}: {exc}; ignored[/]")
            return None
        return str(value) if value else None
    return None


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]{message}[/]", markup=True, highlight=False)
    return typer.Exit(code)


def _error_text(response) -> str:
    try:
        body = response.json()
        return f"{response.status_code} {body.get('code', '')}: {body.get('message', '')}"
    except ValueError:
        return f"{response.status_code}: {response.text[:300]}"


def _retry_after(response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "5")))
    except ValueError:
        return 5.0


def upload(client, exercise: str, path: Path, deadline: float) -> dict[str, Any]:
    """POST the file; retries (with the same Idempotency-Key) after 429/503/connection errors until ``deadline``."""
    import httpx

    key = uuid.uuid4().hex
    data = path.read_bytes()
    while True:
        try:
            response = client.post("/api/v1/submissions", data={"exercise": exercise},
                                   files={"file": (path.name, data)}, headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:
            if time.monotonic() + 2 > deadline:
                raise _fail(f"cannot reach {client.base_url}: {exc}") from None
            time.sleep(2)
            continue
        if response.status_code == 202:
            return response.json()
        if response.status_code in (429, 503) and time.monotonic() + _retry_after(response) < deadline:
            err.print(f"[yellow]{_error_text(response)}; retrying[/]")
            time.sleep(_retry_after(response))
            continue
        raise _fail(f"submission refused: {_error_text(response)}")


def wait_for_report(client, location: str, deadline: float) -> dict[str, Any]:
    import httpx

    while True:
        remaining = deadline - time.monotonic()
        try:
            response = client.get(location, params={"wait": max(0.0, min(30.0, remaining))},
                                  timeout=min(30.0, max(remaining, 0)) + 15)
        except httpx.TransportError as exc:
            if remaining < 2:
                raise _fail(f"lost the server while waiting: {exc}") from None
            time.sleep(2)
            continue
        if response.status_code != 200:
            raise _fail(f"cannot read {location}: {_error_text(response)}")
        body = response.json()
        if body["status"] in TERMINAL and body.get("report") is not None:
            return body
        if time.monotonic() >= deadline:
            raise _fail(f"no report after the timeout; the submission is {body['status']}: {location}", 3)


@app.command()
def submit(
        exercise: str,
        file: Annotated[Path, typer.Argument(help="The .py or .ipynb file, or the folder `nngrade start` wrote.")],
        server: Annotated[Optional[str], typer.Option(help="Service URL [NNGRADE_SERVER].")] = None,
        token: Annotated[Optional[str], typer.Option(help="Bearer token [NNGRADE_TOKEN].")] = None,
        wait: Annotated[bool, typer.Option("--wait", help="Wait for the report and print it.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the report with --wait).")] = False,
        timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 300.0,
) -> None:
    """Submit FILE (.py or .ipynb) to the grading service.  With --wait, print the report exactly as
    `nngrade check` does; exit status 0 on full marks."""
    import httpx

    from graders.framework.report import Report

    server = client_setting("server", server)
    token = client_setting("token", token)
    if not server or not token:
        raise _fail(f"say where to submit: --server and --token, NNGRADE_SERVER and NNGRADE_TOKEN, or "
                    f"`server`/`token` in {config_path()}")
    file = solution_file(exercise, file)
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                      timeout=60.0) as client:
        accepted = upload(client, exercise, file, deadline)
        if not wait:
            if as_json:
                typer.echo(json.dumps(accepted, indent=2))
            else:
                typer.echo(f"submitted {file.name} for {exercise}: submission {accepted['id']} "
                           f"({accepted['status']}), {server.rstrip('/')}{accepted['location']}")
            return
        # On stderr, so that stdout is the report exactly as `nngrade check` prints it (or its JSON).
        err.print(f"submission {accepted['id']} ({file.name} for {exercise}) is {accepted['status']}; "
                  f"waiting for its report: {server.rstrip('/')}{accepted['location']}", markup=False, highlight=False,
                  soft_wrap=True)
        body = wait_for_report(client, accepted["location"], deadline)
    report = Report.model_validate(body["report"])
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        print_report(report, console)
        from .course import print_timing
        print_timing(body.get("timing"), console)  # on time, or how late and what it cost
    raise typer.Exit(0 if report.passed else 1)
