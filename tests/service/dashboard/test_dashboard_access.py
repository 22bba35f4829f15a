"""Who gets in and what a page may do, over HTTP against the running service: instructors only,
a signed expiring HttpOnly cookie, CSRF on every state-changing request, escaping, CSP, and API
docs that load nothing from another host."""

from __future__ import annotations

import pathlib
import re
import time

import httpx
import pytest

from service.db import Database
from service.db.engine import make_engine
from service.db.tokens import active_token, revoke

from dashboard_kit import LOGIN_CSRF, login, page_csrf

ROOT = pathlib.Path(__file__).resolve().parents[3]
XSS_NAME = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def test_root_tells_a_student_how_to_submit(service):
    r = httpx.get(service.base + "/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "nngrade submit" in r.text and "/dashboard/login" in r.text


def test_the_dashboard_without_a_session_leads_to_the_login(service):
    r = httpx.get(service.base + "/dashboard/")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
    assert httpx.get(service.base + "/dashboard/submissions/1").status_code == 303


def test_login_sets_an_httponly_lax_expiring_cookie(service):
    client = login(service.base, service.token("instructor", "prof-cookie"))
    cookie = next(h for h in client.cookies.jar if h.name == "nngrade_session")
    assert cookie.expires is not None and cookie.expires > time.time()
    assert not cookie.secure  # served over plain HTTP here
    again = client.get("/dashboard/login")  # already logged in: sent on to the overview
    assert again.status_code == 303 and again.headers["location"] == "/dashboard/"
    form = httpx.get(service.base + "/dashboard/login")
    response = httpx.post(service.base + "/dashboard/login", cookies=form.cookies,
                          data={"token": service.token("instructor", "prof-cookie"),
                                "csrf_token": LOGIN_CSRF.search(form.text).group(1)})
    header = response.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header and "Max-Age=" in header
    assert "nng_" not in header  # the token itself never becomes the cookie
    overview = client.get("/dashboard/")
    assert overview.status_code == 200 and "Overview" in overview.text


def test_the_cookie_is_secure_behind_https(service):
    form = httpx.get(service.base + "/dashboard/login")
    response = httpx.post(service.base + "/dashboard/login", cookies=form.cookies,
                          headers={"X-Forwarded-Proto": "https"},
                          data={"token": service.token("instructor", "prof-https"),
                                "csrf_token": LOGIN_CSRF.search(form.text).group(1)})
    assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


def test_a_students_token_gets_a_page_saying_it_is_for_instructors(service):
    form = httpx.get(service.base + "/dashboard/login")
    response = httpx.post(service.base + "/dashboard/login", cookies=form.cookies,
                          data={"token": service.token("student", "stu-dash"),
                                "csrf_token": LOGIN_CSRF.search(form.text).group(1)})
    assert response.status_code == 403 and "for instructors" in response.text
    assert "nngrade_session" not in response.headers.get("set-cookie", "")


def test_an_unknown_token_or_a_missing_login_csrf_is_refused(service):
    form = httpx.get(service.base + "/dashboard/login")
    csrf = LOGIN_CSRF.search(form.text).group(1)
    wrong = httpx.post(service.base + "/dashboard/login", cookies=form.cookies,
                       data={"token": "nng_nonsense", "csrf_token": csrf})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.text
    good = service.token("instructor", "prof-csrf")
    no_cookie = httpx.post(service.base + "/dashboard/login", data={"token": good, "csrf_token": csrf})
    assert no_cookie.status_code == 403  # a form posted from elsewhere has not the browser's pre-login cookie
    wrong_field = httpx.post(service.base + "/dashboard/login", cookies=form.cookies,
                             data={"token": good, "csrf_token": "x" * len(csrf)})
    assert wrong_field.status_code == 403


@pytest.fixture
def submitted(service, users):
    """A graded submission of alice's."""
    sid = users.alice.accepted("dense", source="import numpy as np\n")
    users.alice.wait(sid)
    return sid


def test_state_changing_requests_need_the_csrf_token_and_this_origin(service, submitted):
    client = login(service.base, service.token("instructor", "prof-post"))
    csrf = page_csrf(client.get(f"/dashboard/submissions/{submitted}").text)
    url = f"/dashboard/submissions/{submitted}/regrade"
    assert client.post(url).status_code == 403
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 403
    assert client.post(url, data={"csrf_token": csrf}, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post(url, data={"csrf_token": csrf}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    other = login(service.base, service.token("instructor", "prof-other"))
    assert other.post(url, data={"csrf_token": csrf}).status_code == 403  # another session's token
    ok = client.post(url, data={"csrf_token": csrf}, headers={"Origin": service.base})
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"/dashboard/submissions/{submitted}?")
    assert client.post("/dashboard/logout").status_code == 403


def test_logout_ends_the_session_in_the_browser(service):
    client = login(service.base, service.token("instructor", "prof-logout"))
    csrf = page_csrf(client.get("/dashboard/").text)
    out = client.post("/dashboard/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and 'nngrade_session=""' in out.headers["set-cookie"]
    assert client.get("/dashboard/").headers["location"] == "/dashboard/login"


def test_revoking_the_token_ends_its_sessions_and_a_forged_cookie_opens_nothing(service):
    token = service.token("instructor", "prof-revoke")
    client = login(service.base, token)
    assert client.get("/dashboard/").status_code == 200
    cookie = client.cookies["nngrade_session"]
    payload, _, signature = cookie.partition(".")
    forged = httpx.get(service.base + "/dashboard/", cookies={"nngrade_session": payload + "." + signature[::-1]})
    assert forged.status_code == 303
    db = Database(make_engine(service.db_url), service.db_url)
    try:
        with db.write_session() as session:
            revoke(session, active_token(session, token).id)
    finally:
        db.dispose()
    assert client.get("/dashboard/").status_code == 303


def test_a_session_expires(start_service):
    svc = start_service(session_hours=0.0005)  # 1.8 s
    client = login(svc.base, svc.token("instructor", "prof-expiry"))
    assert client.get("/dashboard/").status_code == 200
    time.sleep(2.5)
    assert client.get("/dashboard/").status_code == 303


def test_student_controlled_strings_are_escaped_and_scripts_are_only_the_apps(service):
    student = service.api(service.token("student", XSS_NAME))
    source = 'X = "</textarea><script>alert(3)</script>"  # "><img src=x onerror=alert(4)>\n'
    sid = student.accepted("dense", source=source, filename='"><img src=x onerror=alert(5)>.py')
    student.wait(sid)
    client = login(service.base, service.token("instructor", "prof-xss"))
    pages = [client.get(f"/dashboard/submissions/{sid}"), client.get("/dashboard/"),
             client.get("/dashboard/exercises/dense")]
    student_page = re.search(r'href="/dashboard/students/(\d+)">&#34;&gt;&lt;img src=x', pages[1].text)
    assert student_page, "the student's name is in the gradebook, escaped"
    pages.append(client.get(f"/dashboard/students/{student_page.group(1)}"))
    for page in pages:
        assert page.status_code == 200
        assert "<img src=x" not in page.text and "<script>alert" not in page.text
        assert "</textarea><script>" not in page.text
        assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/dashboard/static/dashboard.js" defer>']
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in pages[0].text  # shown, as text
    assert "onerror=alert(5)&gt;.py" in pages[0].text  # the file name too


def test_the_api_docs_load_only_local_files(service):
    page = httpx.get(service.base + "/api/v1/docs")
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for path in sources:
        assert httpx.get(service.base + path).status_code == 200, path
    assert "<script>" not in page.text  # no inline script


def test_the_overviews_csv_is_the_apis_gradebook(service, users):
    """One place decides the gradebook (late penalties, removed students): the overview's download,
    unfiltered and in name order, is byte for byte the API's /gradebook.csv."""
    users.alice.accepted("dense", source=(ROOT / "reference" / "dense.py").read_text())
    users.alice.wait(users.alice.get("/api/v1/submissions").json()["items"][-1]["id"])
    client = login(service.base, service.token("instructor", "prof-csv"))
    for mode in ("best", "latest"):
        ours = client.get("/dashboard/gradebook.csv", params={"mode": mode})
        theirs = users.instructor.get("/api/v1/gradebook.csv", params={"mode": mode})
        assert ours.status_code == theirs.status_code == 200
        assert ours.text == theirs.text and "alice" in ours.text
