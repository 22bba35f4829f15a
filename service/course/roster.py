"""The roster: import students from a CSV (all rows or none), list them, remove them (tokens revoked,
submissions kept).

The CSV has a header; ``name`` and ``email`` are required, ``section``, ``lms_id`` (Canvas's user
"ID"), ``sis_user_id`` and ``sis_login_id`` optional::

    name,email,section,lms_id,sis_user_id,sis_login_id
    Ada Lovelace,ada@example.edu,A,1001,s1001,ada
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Token, User
from service.db.models import RosterEntry
from service.db.tokens import create_token

from .errors import CourseError

REQUIRED = ("name", "email")
OPTIONAL = ("section", "lms_id", "sis_user_id", "sis_login_id")
LIMITS = {"name": 200, "email": 320, "section": 100, "lms_id": 100, "sis_user_id": 100, "sis_login_id": 100}
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
MAX_ROWS = 10_000
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    email: str
    section: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""


@dataclass(frozen=True)
class Imported:
    """One imported row: ``token`` is the new plaintext token (shown once), None for a student already
    on the roster whose details were updated."""

    entry: RosterEntry
    token: str | None


def roster_error(problems: list[str]) -> CourseError:
    shown = problems[:MAX_PROBLEMS]
    more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
    return CourseError(422, "invalid-roster", "the roster was not imported (nothing was changed): "
                       + "; ".join(shown) + more)


def parse_roster(text: str) -> list[RosterRow]:
    """The rows of a roster CSV, or a 422 naming every bad line (line 1 is the header)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise roster_error(["line 1: the file is empty; expected a header such as 'name,email,section'"]) from None
    problems = []
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    missing = [h for h in REQUIRED if h not in header]
    if unknown:
        problems.append(f"line 1: unknown column(s) {', '.join(map(repr, unknown))}; known: "
                        f"{', '.join(REQUIRED + OPTIONAL)}")
    if missing:
        problems.append(f"line 1: missing column(s) {', '.join(map(repr, missing))}")
    if len(set(header)) != len(header):
        problems.append("line 1: a column appears twice")
    if problems:
        raise roster_error(problems)
    rows: list[RosterRow] = []
    names: dict[str, int] = {}
    emails: dict[str, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append(f"line {line}: {len(values)} fields, expected {len(header)} ({', '.join(header)})")
                continue
            fields = {h: v.strip() for h, v in zip(header, values)}
            bad = [f"{h} is longer than {LIMITS[h]} characters" for h, v in fields.items() if len(v) > LIMITS[h]]
            if not fields["name"]:
                bad.append("the name is empty")
            if not EMAIL.match(fields["email"]):
                bad.append(f"{fields['email']!r} is not an e-mail address")
            email = fields["email"].lower()
            if fields["name"] in names:
                bad.append(f"{fields['name']!r} is already on line {names[fields['name']]}")
            if email in emails:
                bad.append(f"{email!r} is already on line {emails[email]}")
            if bad:
                problems.append(f"line {line}: " + ", ".join(bad))
                continue
            names[fields["name"]], emails[email] = line, line
            rows.append(RosterRow(line=line, **{**fields, "email": email}))
            if len(rows) > MAX_ROWS:
                raise roster_error([f"line {line}: more than {MAX_ROWS} students"])
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise roster_error(problems)
    if not rows:
        raise roster_error(["the file has a header but no student"])
    return rows


def import_roster(session: Session, *, rows: list[RosterRow], now: datetime) -> list[Imported]:
    """Create (or update) each row's student; new and re-admitted students get a token.  All or nothing:
    a conflict with the database (a name that is an instructor's, an e-mail of another student) raises
    a 422 naming the lines before anything is written."""
    users = {u.name: u for u in session.scalars(select(User).where(User.name.in_([r.name for r in rows])))}
    entries = {e.user_id: e for e in session.scalars(select(RosterEntry).where(
        RosterEntry.user_id.in_([u.id for u in users.values()])))} if users else {}
    owners = {e.email: e.user.name for e in session.scalars(select(RosterEntry).where(
        RosterEntry.email.in_([r.email for r in rows])))}
    problems = []
    for row in rows:
        user = users.get(row.name)
        if user is not None and user.role != "student":
            problems.append(f"line {row.line}: {row.name!r} is an {user.role}, not a student")
        owner = owners.get(row.email)
        if owner is not None and owner != row.name:
            problems.append(f"line {row.line}: {row.email!r} belongs to {owner!r} on the roster")
    if problems:
        raise roster_error(problems)
    imported = []
    for row in rows:
        user = users.get(row.name)
        entry = entries.get(user.id) if user is not None else None
        fresh = entry is None or entry.removed_at is not None
        token = None
        if fresh:
            row_token, token = create_token(session, name=row.name, role="student")
            user = user or session.get(User, row_token.user_id)
        if entry is None:
            entry = RosterEntry(user_id=user.id, email=row.email, created_at=now)
            session.add(entry)
        entry.email, entry.section, entry.removed_at = row.email, row.section, None
        entry.lms_id, entry.sis_user_id, entry.sis_login_id = row.lms_id, row.sis_user_id, row.sis_login_id
        imported.append(Imported(entry, token))
    session.flush()
    return imported


def list_roster(session: Session, *, section: str | None = None,
                include_removed: bool = False) -> list[RosterEntry]:
    query = select(RosterEntry).join(User, RosterEntry.user_id == User.id)
    if section is not None:
        query = query.where(RosterEntry.section == section)
    if not include_removed:
        query = query.where(RosterEntry.removed_at.is_(None))
    return list(session.scalars(query.order_by(RosterEntry.section, User.name)))


def remove_student(session: Session, *, name: str, now: datetime) -> tuple[RosterEntry, int]:
    """Take ``name`` off the roster and revoke their tokens (their submissions stay).  Returns the entry
    and how many tokens were revoked."""
    entry = session.scalar(select(RosterEntry).join(User, RosterEntry.user_id == User.id)
                           .where(User.name == name, RosterEntry.removed_at.is_(None)))
    if entry is None:
        raise CourseError(404, "student-not-on-roster", f"{name!r} is not on the roster; see `nngrade roster list`")
    entry.removed_at = now
    tokens = list(session.scalars(select(Token).where(Token.user_id == entry.user_id, Token.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return entry, len(tokens)
