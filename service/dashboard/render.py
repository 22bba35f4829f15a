"""Turning data into pages: the Jinja2 environment (autoescaping on), the security headers of every
page, highlighted source and the diff between two attempts."""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

#: No inline script anywhere; styles only from files (colours are classes or SVG attributes).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY", "Cache-Control": "no-store"}

env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """A rendered page with the dashboard's security headers."""
    html = env.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def fraction_class(score: float | None, max_score: float | None) -> str:
    """The CSS class colouring a score by its fraction of the maximum (``f0`` … ``f10``, ``none``)."""
    if score is None:
        return "none"
    if not max_score:
        return "f0"
    return f"f{max(0, min(10, int(10 * score / max_score)))}"


def points(value: float | None) -> str:
    """A score as shown: at most two decimals, no trailing zeros (the CSV keeps every digit)."""
    return "–" if value is None else f"{round(value, 2):g}"


env.globals["fraction_class"] = fraction_class
env.filters["points"] = points


@lru_cache(maxsize=1)
def pygments_css() -> str:
    return HtmlFormatter(style="default").get_style_defs(".highlight")


def source_html(source: str) -> Markup:
    """Python source highlighted, with line numbers (Pygments escapes every character of it)."""
    formatter = HtmlFormatter(linenos="table", lineanchors="L", anchorlinenos=True, wrapcode=True)
    return Markup(highlight(source, PythonLexer(stripnl=False, ensurenl=True), formatter))


def diff_lines(old: str, new: str, *, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """A unified diff as ``(kind, text)`` lines, kind one of ``head``, ``hunk``, ``add``, ``del``, ``same``;
    the template escapes the text."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=3):
        if line.startswith(("---", "+++")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out
