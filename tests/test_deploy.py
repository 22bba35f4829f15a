"""docker-compose.yml and the Dockerfile: no Docker engine here, so they are checked as files."""

from __future__ import annotations

import pathlib
import shlex

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_compose_file_is_valid_yaml_with_the_service_on_postgres():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"nngrade", "postgres"}
    app = services["nngrade"]
    assert app["build"] == "."
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    # the health check asks the service's real readiness endpoint
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    for name in compose.get("volumes", {}):
        assert any(v.startswith(f"{name}:") for s in services.values() for v in s.get("volumes", []))


def test_dockerfile_installs_the_sandbox_tools_and_serves_as_a_non_root_user():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    text = "\n".join(lines)
    assert "bubblewrap" in text and "libseccomp2" in text
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] != "root"
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert shlex.split(cmd[4:].strip("[]").replace(",", " ")) == ["nngrade", "serve"]
    for folder in ("nngrade", "service", "graders", "exercises", "reference"):
        assert f"COPY {folder} ./{folder}" in text
