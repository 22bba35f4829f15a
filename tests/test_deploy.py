"""docker-compose.yml and the Dockerfile: no Docker engine runs here, so they are checked as files —
the compose file against the Compose Specification's JSON schema, and its topology against the one
the tests run without Docker (``tests/service/worker/test_celery_app.py``)."""

from __future__ import annotations

import json
import pathlib
import shlex

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCHEMA = jsonschema.Draft201909Validator(json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text()))


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_follows_the_compose_specification():
    SCHEMA.validate(compose())


def test_a_compose_file_breaking_the_specification_is_caught():
    broken = compose()
    broken["services"]["worker"]["depends_on"]["postgres"]["condition"] = "when-it-feels-like-it"
    try:
        SCHEMA.validate(broken)
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema let an invalid depends_on condition through")


def test_the_compose_topology_is_api_workers_postgres_and_rabbitmq():
    services = compose()["services"]
    assert set(services) == {"api", "worker", "postgres", "rabbitmq"}
    api, worker = services["api"], services["worker"]
    assert api["command"] == ["nngrade", "serve"] and worker["command"] == ["nngrade", "worker"]
    for app in (api, worker):
        env = app["environment"]
        assert app["build"] == "."
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["NNGRADE_BROKER_URL"].startswith("amqp://") and "@rabbitmq:5672/" in env["NNGRADE_BROKER_URL"]
        assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert app["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert "healthcheck" in app
    # workers scale (`--scale worker=N`): no fixed name or host port; they run the sandbox
    assert "container_name" not in worker and "ports" not in worker
    assert {"seccomp=unconfined", "apparmor=unconfined"} <= set(worker["security_opt"])
    assert "nngrade" in worker["healthcheck"]["test"] and "--check" in worker["healthcheck"]["test"]
    assert "8000:8000" in api["ports"] and "/healthz" in " ".join(api["healthcheck"]["test"])
    for name in compose().get("volumes", {}):
        assert any(v.startswith(f"{name}:") for s in services.values() for v in s.get("volumes", []))


def test_dockerfile_installs_the_sandbox_tools_and_runs_as_a_non_root_user():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    text = "\n".join(lines)
    assert "bubblewrap" in text and "libseccomp2" in text
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] != "root"
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert shlex.split(cmd[4:].strip("[]").replace(",", " ")) == ["nngrade", "serve"]
    assert "[postgres,celery]" in text or "[celery,postgres]" in text
    for folder in ("nngrade", "service", "graders", "exercises", "reference"):
        assert f"COPY {folder} ./{folder}" in text
