"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a live service
with its in-process workers and sandbox, and a class whose attempts are real wrong solutions
(``tests/graders/solutions``).

Every page may reach only the service (anything else is aborted and fails the test), may raise no
dialog, no uncaught error and no console error (a Content-Security-Policy violation is one).  With
``NNGRADE_SCREENSHOTS=1`` the screenshots land in ``docs/screenshots`` (the README's images).
"""

from __future__ import annotations

import csv
import io
import pathlib
import re
from dataclasses import dataclass, field

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture says so: a failure in CI, a skip elsewhere
    expect = None

from dashboard_kit import OfflinePage, browser, class_service, playwright_instance, screenshot_dir  # noqa: F401

# One backend in the browser: the pages' queries on both databases are tests/service/dashboard's
# other tests; here what the browser sees, on the embedded default.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], scope="module")

ROOT = pathlib.Path(__file__).resolve().parents[3]
SOLUTIONS = ROOT / "tests" / "graders" / "solutions"
WAIT_MS = 30_000
#: The scripts a dashboard page loads: its own file, nothing inline.
APP_SCRIPTS = ["/dashboard/static/dashboard.js"]

#: Each student's attempts, in order: (exercise, wrong or right solution).  dW-transposed is the
#: class's most common mistake on dense: four students' latest attempt, and Ada's before she fixed it.
CLASS = {
    "Ada Lovelace": [("dense", "dW_transposed"), ("lora", "adapter_dead"), ("dense", "correct_vectorized"),
                     ("lora", "correct_einsum")],
    "Alan Turing": [("dense", "dW_transposed"), ("toeplitz", "unflipped")],
    "Grace Hopper": [("dense", "grad_averaged"), ("dense", "dW_transposed")],
    "de Vries, Anna": [("dense", "dW_transposed"), ("attention", "missing_scale"),
                       ("attention", "correct_vectorized")],
    "Edsger Dijkstra": [("dense", "bias_missing"), ("dense", "correct_vectorized"), ("toeplitz", "loops")],
    "Katherine Johnson": [("dense", "dW_transposed"), ("attention", "correct_vectorized")],
    "Barbara Liskov": [("dense", "grad_averaged"), ("lora", "correct_einsum"), ("two_layer", "correct_matmul")],
    "Claude Shannon": [("dense", "correct_vectorized"), ("two_layer", "grad_summed")],
    "Niklaus Wirth": [],
}
XSS_NAME = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
XSS_FILE = '"><img src=x onerror=alert(5)>.py'
XSS_SOURCE = ('X = "</textarea><script>alert(3)</script>"  # "><img src=x onerror=alert(4)>\n'
              'print("<script>alert(6)</script><img src=x onerror=alert(7)>")\n')


@dataclass
class Klass:
    """The class of :data:`CLASS` on a service of its own; :meth:`seed` submits every attempt once."""

    service: object
    prof: str
    students: dict = field(default_factory=dict)  # name -> Api
    attempts: dict = field(default_factory=dict)  # name -> [submission id, ...]

    def seed(self) -> None:
        if self.attempts:
            return
        self.attempts = {name: [] for name in CLASS}
        for k in range(max(len(a) for a in CLASS.values())):
            for name, plan in CLASS.items():
                if k < len(plan):
                    exercise, solution = plan[k]
                    sid = self.students[name].accepted(exercise, SOLUTIONS / exercise / f"{solution}.py",
                                                       filename=f"{exercise}.py")
                    self.attempts[name].append(sid)
        for name, ids in self.attempts.items():
            for sid in ids:
                assert self.students[name].wait(sid)["status"] == "done"

    def api_csv(self, mode: str = "best") -> str:
        response = self.service.api(self.prof).get("/api/v1/gradebook.csv", params={"mode": mode})
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture(scope="module")
def klass(class_service) -> Klass:
    k = Klass(class_service, class_service.token("instructor", "Prof. Hinton"))
    for name in CLASS:
        k.students[name] = class_service.api(class_service.token("student", name))
    return k


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> pathlib.Path:
    return screenshot_dir(tmp_path_factory)


@pytest.fixture
def pages(browser, class_service, shots):  # noqa: F811
    """``pages() -> OfflinePage``: new browser contexts on the class's service, closed after the test,
    which fails if any of them went elsewhere, raised a dialog or logged an error."""
    made: list[OfflinePage] = []

    def make() -> OfflinePage:
        made.append(OfflinePage(browser, class_service.base, shots))
        return made[-1]

    yield make
    for p in made:
        p.close()
    for p in made:
        assert p.outside == [], f"requests left the machine: {p.outside}"
        assert p.dialogs == [], f"a page opened dialogs: {p.dialogs}"
        assert p.errors == [], f"errors in the page: {p.errors}"


@pytest.fixture
def prof(klass, pages) -> OfflinePage:
    """A browser logged in as the class's instructor, every attempt of the class graded."""
    klass.seed()
    p = pages()
    p.login(klass.prof)
    return p


def checked(response, status: int = 200):
    """A page's response: its status, and a CSP whose scripts are the app's files only."""
    assert response.status == status, (response.url, response.status)
    csp = response.headers["content-security-policy"]
    script_src = next(d.strip() for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src == "script-src 'self'", csp
    assert "unsafe-inline" not in csp.split("style-src")[0]
    return response


def stay_on_this_document(page) -> None:
    page.evaluate("window.__sameDocument = true")


def stayed_on_this_document(page) -> bool:
    """Whether the page was updated in place since :func:`stay_on_this_document` (no reload, no navigation)."""
    return page.evaluate("window.__sameDocument === true")


def table_of(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => Array.from(r.children).map(c => c.innerText.trim()))")


def gradebook_as_shown(csv_text: str) -> list[list[str]]:
    """The API's CSV as the overview shows it: a dash for no score."""
    rows = list(csv.reader(io.StringIO(csv_text)))[1:]
    return [[row[0], *[cell or "–" for cell in row[1:-1]], row[-1]] for row in rows]


# ------------------------------------------------------------------ logging in, the overview


def test_the_url_nngrade_serve_prints_leads_to_the_login_which_lets_only_an_instructor_in(klass, pages):
    printed = re.search(r"^instructors' dashboard: (http://\S+)$", klass.service.log, re.MULTILINE)
    assert printed, klass.service.log
    p = pages()
    checked(p.page.goto(printed.group(1)), 200)
    assert p.page.url == p.base + "/dashboard/login"
    expect(p.page.locator("h1")).to_have_text("Instructor dashboard")
    p.screenshot("login")
    p.page.fill("#token", "nng_not-a-token")
    with p.page.expect_console_message(lambda m: "401" in m.text):  # Chromium logs the refused form's status
        p.page.click("form.login button[type=submit]")
    p.errors.remove(next(e for e in p.errors if "401" in e))
    expect(p.page.locator("p.error")).to_contain_text("unknown or revoked")
    p.login(klass.prof)
    expect(p.page.locator("header .who")).to_have_text("Prof. Hinton")
    cookie = next(c for c in p.context.cookies() if c["name"] == "nngrade_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > 0


def test_the_gradebook_fills_as_submissions_are_graded_without_a_reload(klass, pages):
    p = pages()
    p.login(klass.prof)
    rows = p.page.locator("table.gradebook tbody tr")
    expect(rows).to_have_count(len(CLASS))
    expect(p.page.locator("#live-stats .stat .num").first).to_have_text("0")
    stay_on_this_document(p.page)
    klass.seed()
    expected = gradebook_as_shown(klass.api_csv())
    assert sum(row.count("–") for row in expected) < 5 * len(CLASS) - 10  # the class did submit
    claude = next(row for row in expected if row[0] == "Claude Shannon")
    expect(rows.filter(has_text="Claude Shannon").locator('td[data-exercise="dense"]')).to_have_text(
        claude[1], timeout=WAIT_MS)
    stats = p.page.locator("#live-stats .stat .num")  # the counters follow too
    expect(stats.first).to_have_text(str(sum(len(plan) for plan in CLASS.values())), timeout=WAIT_MS)
    expect(stats.nth(1)).to_have_text("0")
    p.page.wait_for_function(
        "n => document.querySelectorAll('table.gradebook td.cell:not(.none)').length === n",
        arg=sum(len(row) - 2 - row[1:-1].count("–") for row in expected), timeout=WAIT_MS)
    assert table_of(p.page, "table.gradebook") == expected
    assert stayed_on_this_document(p.page)
    # coloured by tenths of the maximum
    tops = [float(t.split("/")[1]) for t in p.page.locator("table.gradebook thead th.num .muted").all_inner_texts()]
    shown = p.page.eval_on_selector_all("table.gradebook tbody tr", "rows => rows.map(r => Array.from("
                                        "r.querySelectorAll('td.cell')).map(c => [c.innerText, c.className]))")
    for row in shown:
        for (text, classes), top in zip(row, tops):
            band = "none" if text == "–" else f"f{min(10, int(10 * float(text) / top))}"
            assert band in classes.split(), (text, top, classes)
    p.screenshot("overview")


def test_the_gradebook_sorts_filters_and_switches_to_latest(klass, prof):
    p = prof
    p.page.click('table.gradebook thead a:text-is("dense")')
    p.page.wait_for_url(re.compile(r"sort=dense&order=asc"))
    p.page.click('table.gradebook thead a:has-text("dense")')  # again: descending
    p.page.wait_for_url(re.compile(r"sort=dense&order=desc"))
    dense = [row[1] for row in table_of(p.page, "table.gradebook")]
    scores = [float(v) for v in dense if v != "–"]
    assert scores == sorted(scores, reverse=True) and dense[len(scores):] == ["–"] * (len(dense) - len(scores))
    p.page.fill("#q", "DE")
    p.page.click("form.toolbar button[type=submit]")
    p.page.wait_for_url(re.compile(r"q=DE"))
    names = [row[0] for row in table_of(p.page, "table.gradebook")]
    assert set(names) == {n for n in CLASS if "de" in n.casefold()} and len(names) > 1
    p.page.check("input[name=mode][value=latest]")  # submits the form itself, keeping the filter
    p.page.wait_for_url(re.compile(r"mode=latest.*q=DE"))
    latest = {row[0]: row for row in gradebook_as_shown(klass.api_csv("latest"))}
    assert {row[0]: row for row in table_of(p.page, "table.gradebook")} == {n: latest[n] for n in names}


def test_the_csv_download_is_the_apis_gradebook_and_what_is_shown(klass, prof):
    p = prof
    for mode in ("best", "latest"):
        checked(p.goto(f"/dashboard/?mode={mode}"))
        with p.page.expect_download() as download:
            p.page.click("#csv")
        assert download.value.suggested_filename == f"gradebook-{mode}.csv"
        assert pathlib.Path(download.value.path()).read_text() == klass.api_csv(mode)
    checked(p.goto("/dashboard/?mode=best&q=an&sort=total&order=desc"))
    with p.page.expect_download() as download:
        p.page.click("#csv")
    ours = list(csv.reader(io.StringIO(pathlib.Path(download.value.path()).read_text())))
    api = {row[0]: row for row in csv.reader(io.StringIO(klass.api_csv("best")))}
    assert ours[0] == api["student"]
    assert [row[0] for row in ours[1:]] == [row[0] for row in table_of(p.page, "table.gradebook")]
    assert all(row == api[row[0]] for row in ours[1:]) and len(ours) > 2


# ------------------------------------------------------------------ an exercise, a submission, a student


def test_dense_shows_the_top_mistake_and_the_students_behind_it(klass, prof):
    p = prof
    p.page.click('header nav a:text-is("dense")')
    p.page.wait_for_url(re.compile(r"/dashboard/exercises/dense$"))
    top = p.page.locator("table.codes tbody tr").first
    expect(top.locator("code.code")).to_have_text("dW-transposed")
    assert top.locator("p.explain").inner_text().startswith("dW is the transpose")
    cells = top.locator("td.num").all_inner_texts()
    assert cells[1:] == ["4", "5"]  # students now, ever
    behind = top.locator("td.examples a")
    assert set(behind.all_inner_texts()) == {"Alan Turing", "Grace Hopper", "de Vries, Anna", "Katherine Johnson",
                                             "Ada Lovelace"}
    assert "past" in behind.filter(has_text="Ada Lovelace").get_attribute("class")  # she has fixed it since
    chart = p.page.locator("svg.chart")
    assert chart.locator("title").first.text_content() == "dense: best score per student"
    assert {"best score, % of the maximum", "students"} <= set(chart.locator("text.chart-axis").all_text_contents())
    assert "Histogram of 8 students" in chart.locator("desc").text_content()
    cases = table_of(p.page, "table.cases")
    assert cases and all(re.fullmatch(r"\d+ / 8", row[1]) for row in cases)
    p.screenshot("exercise")

    behind.filter(has_text="Grace Hopper").click()
    grace_dense = klass.attempts["Grace Hopper"][1]
    p.page.wait_for_url(re.compile(rf"/dashboard/submissions/{grace_dense}$"))
    expect(p.page.locator("h1")).to_contain_text(f"Submission #{grace_dense}")
    report = p.page.locator("#report")
    expect(report.locator("dl.facts")).to_contain_text("dW-transposed")
    expect(report.locator("dl.facts")).to_contain_text("seccomp")
    assert report.locator("table.tests tbody tr").count() > 5
    expect(report.locator("table.tests")).to_contain_text("transpose")
    assert p.page.locator(".source .linenos").count() == 1 and p.page.locator(".source .highlight .k").count() > 0
    expect(p.page.locator("pre.diff .d-add").first).to_be_visible()
    expect(p.page.locator("h2", has_text="Changes since the previous attempt")).to_contain_text(
        f"#{klass.attempts['Grace Hopper'][0]}")
    p.screenshot("submission")


def test_regrading_a_submission_shows_its_new_report_and_keeps_the_old_one(klass, pages):
    klass.seed()
    sid = klass.attempts["Grace Hopper"][1]
    p = pages()
    p.login(klass.prof)
    checked(p.goto(f"/dashboard/submissions/{sid}"))
    before = p.page.locator("section.card:has(h2:text-is('Earlier reports of this submission')) details").count()
    p.page.click("section.regrade button[type=submit]")
    p.page.wait_for_url(re.compile(rf"/dashboard/submissions/{sid}\?batch=\d+$"))
    p.page.wait_for_url(re.compile(rf"/dashboard/submissions/{sid}$"), timeout=WAIT_MS)  # sent back when done
    expect(p.page.locator("#report dl.facts")).to_contain_text("(regrade)")
    earlier = p.page.locator("section.card:has(h2:text-is('Earlier reports of this submission')) details")
    expect(earlier).to_have_count(before + 1)
    assert "submit" in earlier.last.locator("summary").inner_text()


def test_regrade_all_shows_live_progress_and_new_reports_appear_on_the_exercise_page(klass, prof):
    p = prof
    checked(p.goto("/dashboard/exercises/dense"))
    p.accept_next_confirm()
    p.page.click("section.regrade button[type=submit]")
    p.page.wait_for_url(re.compile(r"/dashboard/exercises/dense\?batch=\d+$"))
    assert p.confirms and "Regrade every submission of dense" in p.confirms[0]
    stay_on_this_document(p.page)
    progress = p.page.locator("[data-progress]")
    expect(progress).to_have_attribute("data-finished", "true", timeout=WAIT_MS)
    dense_attempts = sum(1 for plan in CLASS.values() for ex, _ in plan if ex == "dense")
    expect(progress).to_contain_text(re.compile(rf"{dense_attempts} of {dense_attempts} graded.*finished"))
    assert p.page.eval_on_selector("[data-progress] progress", "b => b.value === b.max")
    p.screenshot("regrade")
    assert stayed_on_this_document(p.page)

    # a report that arrives while the page is open shows without a reload
    checked(p.goto("/dashboard/exercises/toeplitz"))
    stay_on_this_document(p.page)
    unflipped = p.page.locator("table.codes tbody tr", has=p.page.locator('code:text-is("kernel-not-flipped")'))
    expect(unflipped.locator("td.num").nth(1)).to_have_text("1")
    late = klass.students["Niklaus Wirth"]
    late.wait(late.accepted("toeplitz", SOLUTIONS / "toeplitz" / "unflipped.py", filename="toeplitz.py"))
    expect(unflipped.locator("td.num").nth(1)).to_have_text("2", timeout=WAIT_MS)
    expect(unflipped.locator("td.examples")).to_contain_text("Niklaus Wirth")
    assert stayed_on_this_document(p.page)
    p.screenshot("live")


def test_a_students_page_shows_every_attempt_and_how_the_score_moved(klass, prof):
    p = prof
    p.page.click('table.gradebook a:text-is("Ada Lovelace")')
    p.page.wait_for_url(re.compile(r"/dashboard/students/\d+$"))
    rows = table_of(p.page, "table.attempts")
    assert [row[0] for row in rows] == [f"#{sid}" for sid in reversed(klass.attempts["Ada Lovelace"])]
    assert "dW-transposed" in rows[-1][5] and "adapter-dead" in rows[-2][5]
    chart = p.page.locator("svg.chart")
    assert {"attempt", "score, % of the maximum"} <= set(chart.locator("text.chart-axis").all_text_contents())
    assert chart.locator("polyline").count() == 2  # dense and lora, two attempts each
    assert re.search(r"dense: [1-9]\d%, 100%; lora: \d+%, 100%", chart.locator("desc").text_content())
    p.screenshot("student")


# ------------------------------------------------------------------ security


def test_payloads_in_a_submission_and_a_students_name_run_nothing(klass, pages):
    klass.seed()
    evil = klass.service.api(klass.service.token("student", XSS_NAME))
    sent = evil.post("/api/v1/submissions", json={"exercise": "dense", "filename": XSS_FILE, "source": XSS_SOURCE})
    assert sent.status_code == 202, sent.text  # JSON: a multipart upload would percent-encode the quote
    sid = sent.json()["id"]
    evil.wait(sid)
    p = pages()
    p.login(klass.prof)
    visited = [checked(p.goto("/dashboard/")), checked(p.goto("/dashboard/exercises/dense"))]
    p.page.locator("table.codes td.examples").get_by_role("link", name=XSS_NAME, exact=True).click()
    p.page.wait_for_url(re.compile(rf"/dashboard/submissions/{sid}$"))
    expect(p.page.locator("p.muted code").first).to_have_text(XSS_FILE)
    expect(p.page.locator(".source")).to_contain_text("</textarea><script>alert(3)</script>")
    expect(p.page.locator("pre.output")).to_contain_text("<script>alert(6)</script>")
    p.page.locator("h1").get_by_role("link", name=XSS_NAME, exact=True).click()
    p.page.wait_for_url(re.compile(r"/dashboard/students/\d+$"))
    expect(p.page.locator("h1")).to_contain_text(XSS_NAME)
    for path in ("/dashboard/", "/dashboard/exercises/dense", f"/dashboard/submissions/{sid}",
                 p.page.url.removeprefix(p.base)):
        visited.append(checked(p.goto(path)))
        expect(p.page.locator("main")).to_contain_text(XSS_NAME)
        injected = p.page.evaluate("""() => ({
            images: document.querySelectorAll('img').length,
            scripts: Array.from(document.scripts).map(s => s.getAttribute('src')),
            handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length})""")
        assert injected == {"images": 0, "scripts": APP_SCRIPTS, "handlers": 0}, (path, injected)
    assert p.dialogs == []


def test_the_api_docs_render_with_no_request_leaving_the_machine(klass, pages):
    p = pages()
    response = checked(p.goto("/api/v1/docs"))
    assert "'unsafe-inline'" not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    expect(p.page.locator(".swagger-ui .info .title")).to_contain_text("nngrade", timeout=WAIT_MS)
    expect(p.page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    assert p.page.locator(".swagger-ui .opblock").count() > 10
    p.screenshot("api-docs", full_page=False)
    assert p.requests and all(url.startswith(p.base + "/") for url in p.requests), p.requests
    assert p.outside == []


def test_a_students_token_gets_a_page_saying_the_dashboard_is_for_instructors(klass, pages):
    p = pages()
    checked(p.goto("/dashboard/login"))
    p.page.fill("#token", klass.service.token("student", "Ada Lovelace"))
    with p.page.expect_console_message(lambda m: "403" in m.text):  # Chromium logs the refused login's status
        with p.page.expect_response(lambda r: r.url.endswith("/dashboard/login") and r.request.method == "POST") \
                as sent:
            p.page.click("form.login button[type=submit]")
    p.errors.remove(next(e for e in p.errors if "403" in e))
    checked(sent.value, 403)
    expect(p.page.locator("h1")).to_have_text("The dashboard is for instructors")
    assert not any(c["name"] == "nngrade_session" for c in p.context.cookies())
    p.screenshot("refused")
    response = p.goto("/dashboard/")
    assert p.page.url == p.base + "/dashboard/login" and response.status == 200


def test_logging_out_ends_the_session(klass, pages):
    p = pages()
    p.login(klass.prof)
    p.page.click("header form.logout button")
    p.page.wait_for_url(p.base + "/dashboard/login")
    assert not any(c["name"] == "nngrade_session" for c in p.context.cookies())
    p.goto("/dashboard/exercises/dense")
    assert p.page.url == p.base + "/dashboard/login"
