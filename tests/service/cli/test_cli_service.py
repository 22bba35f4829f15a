"""The service's commands as an instructor and a student type them: serve, token, config, submit."""

from __future__ import annotations

import json
import pathlib
import re

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"
WRONG = REFERENCE.read_text().replace("dY.T @ X", "X.T @ dY")  # dW transposed


def test_serve_prints_where_it_listens(service):
    assert f"http://127.0.0.1:{service.port}/api/v1" in service.log


def test_token_create_prints_the_token_alone_on_the_last_line(service):
    done = service.cli("token", "create", "--role", "student", "--name", "erin")
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"nng_[A-Za-z0-9_-]{40,}", token)
    assert service.api(token).get("/api/v1/me").json() == {"name": "erin", "role": "student"}
    listed = json.loads(service.cli("token", "list", "--json").stdout)
    mine = [t for t in listed if t["name"] == "erin"]
    assert len(mine) == 1 and token.startswith(mine[0]["prefix"]) and token not in json.dumps(listed)
    conflict = service.cli("token", "create", "--role", "instructor", "--name", "erin")
    assert conflict.returncode == 2 and "already known as student" in conflict.stderr
    bad_role = service.cli("token", "create", "--role", "admin", "--name", "x")
    assert bad_role.returncode != 0
    assert service.cli("token", "revoke", "999999").returncode == 2


def test_config_prints_effective_settings_with_secrets_masked(service):
    done = service.cli("config", "--json", env={"DATABASE_URL": "postgresql+psycopg://grader:s3cr3t@db.example/nn",
                                                "NNGRADE_RATE_LIMIT": "7"})
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert "s3cr3t" not in done.stdout
    assert shown["database_url"] == "postgresql+psycopg://grader:***@db.example/nn"
    assert shown["rate_limit"] == 7 and shown["max_upload_bytes"] == 1024 * 1024
    text = service.cli("config", env={"DATABASE_URL": "postgresql+psycopg://grader:s3cr3t@db.example/nn"}).stdout
    assert "s3cr3t" not in text and "rate_limit" in text


def _seed(api, sid: int) -> int:
    return api.get(f"/api/v1/submissions/{sid}").json()["report"]["seed"]


def test_submit_prints_the_report_exactly_as_check(service, users):
    token = users.alice.token
    for source in (REFERENCE, None):
        path = REFERENCE
        if source is None:
            path = service.workdir / "dense.py"
            path.write_text(WRONG)
        submitted = service.cli("submit", "dense", str(path), "--server", service.base, "--token", token, "--wait")
        assert submitted.returncode in (0, 1), submitted.stderr
        sid = users.alice.get("/api/v1/submissions", params={"limit": 1000}).json()["items"][-1]["id"]
        checked = service.cli("check", "dense", str(path), "--all", "--seed", str(_seed(users.alice, sid)))
        if "too-slow" not in checked.stdout + submitted.stdout:  # a time budget a loaded machine missed
            assert submitted.stdout == checked.stdout, f"submit:\n{submitted.stdout}\ncheck:\n{checked.stdout}\n{service.log[-3000:]}"
            assert submitted.returncode == checked.returncode
        assert ("dW-transposed" in submitted.stdout) == (source is None)
        assert re.search(rf"^submission {sid} \(dense\.py for dense\) is \w+; waiting for its report: "
                         rf"{re.escape(service.base)}/api/v1/submissions/{sid}$", submitted.stderr, re.M), submitted.stderr


def test_submit_an_empty_folder_file_gets_one_line_from_the_service(service, users):
    folder = service.workdir / "empty-work"
    assert service.cli("start", "dense", str(folder)).returncode == 0
    (folder / "dense.py").write_text("# to do\n")
    done = service.cli("submit", "dense", str(folder), "--server", service.base, "--token", users.alice.token,
                       "--wait")
    assert done.returncode == 1, done.stderr
    line = "dense.py is empty: it defines none of dense_forward, dense_backward."
    assert done.stdout.splitlines()[0] == line and "┃" not in done.stdout, done.stdout
    assert "Score: 0 / 19" in done.stdout
    sid = int(re.search(r"^submission (\d+) ", done.stderr, re.M).group(1))
    report = users.alice.get(f"/api/v1/submissions/{sid}").json()["report"]
    assert report["message"] == line and report["tests"] == [] and report["diagnoses"] == ["missing-function"]


def test_submit_json_and_settings_from_env_and_home_config(service, users, tmp_path):
    home = tmp_path / "home"
    (home / ".config" / "nngrade").mkdir(parents=True)
    (home / ".config" / "nngrade" / "client.toml").write_text(
        f'server = "{service.base}"\ntoken = "{users.bob.token}"\n')
    env = {"HOME": str(home), "XDG_CONFIG_HOME": ""}
    done = service.cli("submit", "dense", str(REFERENCE), "--wait", "--json", env=env)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert report["exercise"] == "dense" and report["hidden_included"] and report["max_score"] == 19
    by_env = service.cli("submit", "dense", str(REFERENCE), env={"NNGRADE_SERVER": service.base,
                                                                  "NNGRADE_TOKEN": users.bob.token})
    assert by_env.returncode == 0 and re.search(r"submission \d+ \(queued\)", by_env.stdout)
    mine = users.bob.get("/api/v1/submissions", params={"limit": 1000}).json()["items"]
    assert len([s for s in mine if s["filename"] == "dense.py"]) >= 2


def test_submit_explains_what_is_missing_or_refused(service, users, tmp_path):
    nowhere = service.cli("submit", "dense", str(REFERENCE), env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": ""})
    assert nowhere.returncode == 2 and "--server" in nowhere.stderr
    bad = service.cli("submit", "dense", str(REFERENCE), "--server", service.base, "--token", "nng_wrong")
    assert bad.returncode == 2 and "invalid-token" in bad.stderr
    unknown = service.cli("submit", "dens", str(REFERENCE), "--server", service.base, "--token", users.bob.token)
    assert unknown.returncode == 2 and "unknown-exercise" in unknown.stderr
