"""Pure course policy: time zones, an assignment's window, whether a submission is on time and what
lateness costs.  Nothing here reads a clock: every function takes the moment it judges.

Penalties count *started* units: with 10 % per day, one second late costs 10 %, a day and a second
20 %, never more than the cap.  A submission at the due date to the second is on time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import CourseError

NONE, PER_DAY, PER_HOUR, FIXED = "none", "per-day", "per-hour", "fixed"
POLICIES = (NONE, PER_DAY, PER_HOUR, FIXED)
UNITS = {PER_DAY: timedelta(days=1), PER_HOUR: timedelta(hours=1)}

#: How a submission stands against its (possibly extended) dates.
ON_TIME, LATE, AFTER_DEADLINE = "on-time", "late", "after-deadline"
#: Whether an assignment takes submissions at a moment.
NOT_OPEN, OPEN, LATE_WINDOW, CLOSED = "not-open", "open", "late", "closed"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (e.g. ``Europe/Berlin``), or a 422 naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(422, "unknown-timezone", f"unknown time zone {name!r}; expected an IANA name such as "
                                                   f"'Europe/Berlin' or 'UTC'") from None


def to_utc(value: datetime, tz: str) -> datetime:
    """``value`` in UTC: a naive datetime is read in the zone ``tz``, an aware one keeps its offset."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(timezone.utc)


def local(value: datetime, tz: str) -> datetime:
    """``value`` (UTC) as the wall-clock time of the zone ``tz``."""
    return value.astimezone(zone(tz))


def describe_delay(delay: timedelta) -> str:
    """``timedelta(days=1, seconds=3701)`` → ``'1 day 1 h 1 min 41 s'``, ``timedelta(0)`` → ``'0 s'``.

    Every second shows: a penalty per started day makes ``1 day 1 s`` cost two days, and the text
    says why."""
    seconds = int(delay.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{rest} s"] if rest or not parts else []
    return " ".join(parts)


@dataclass(frozen=True)
class LatePolicy:
    """What a late submission costs, in percent of its score.

    ``kind`` is ``none``, ``per-day`` / ``per-hour`` (``percent`` per started unit, at most ``cap``) or
    ``fixed`` (``percent`` once).
    """

    kind: str = NONE
    percent: float = 0.0
    cap: float = 100.0

    def __post_init__(self) -> None:
        if self.kind not in POLICIES:
            raise CourseError(422, "invalid-late-policy", f"the late policy must be one of {', '.join(POLICIES)}, "
                                                          f"not {self.kind!r}")
        for name, value in (("penalty", self.percent), ("cap", self.cap)):
            if not 0 <= value <= 100:
                raise CourseError(422, "invalid-late-policy", f"the {name} must be a percentage from 0 to 100, "
                                                              f"not {value:g}")

    def penalty(self, late_by: timedelta) -> float:
        """The penalty in percent for a submission ``late_by`` after the due date (0 when not late)."""
        if late_by <= timedelta(0) or self.kind == NONE:
            return 0.0
        if self.kind == FIXED:
            return self.percent
        units = math.ceil(late_by / UNITS[self.kind])
        return min(self.cap, units * self.percent)

    def describe(self) -> str:
        if self.kind == NONE:
            return "no late penalty"
        if self.kind == FIXED:
            return f"{self.percent:g}% off when late"
        unit = "day" if self.kind == PER_DAY else "hour"
        return f"{self.percent:g}% per {unit} late (at most {self.cap:g}%)"


@dataclass(frozen=True)
class Window:
    """An assignment's dates for one student (UTC); ``late_until`` is the due date when there is no
    late window.  ``extended``: the dates are the student's extension."""

    opens_at: datetime
    due_at: datetime
    late_until: datetime
    extended: bool = False

    def state(self, *, now: datetime) -> str:
        """``not-open``, ``open`` (up to the due date), ``late`` (until ``late_until``) or ``closed``."""
        if now < self.opens_at:
            return NOT_OPEN
        if now <= self.due_at:
            return OPEN
        if now <= self.late_until:
            return LATE_WINDOW
        return CLOSED


def window(*, opens_at: datetime, due_at: datetime, late_until: datetime | None,
           extension_due: datetime | None = None, extension_late_until: datetime | None = None) -> Window:
    """The dates that hold for a student: the extension's when there is one.  An extension without a
    late-until of its own keeps the assignment's late window length after its new due date."""
    late = late_until or due_at
    if extension_due is None:
        return Window(opens_at, due_at, late)
    ext_late = extension_late_until or (extension_due + (late - due_at))
    return Window(opens_at, extension_due, max(ext_late, extension_due), extended=True)


def check_dates(*, opens_at: datetime, due_at: datetime, late_until: datetime | None) -> None:
    """422 unless opens-at ≤ due-at ≤ late-until."""
    if due_at < opens_at:
        raise CourseError(422, "invalid-dates", f"the due date ({due_at.isoformat()}) is before the opening "
                                                f"({opens_at.isoformat()})")
    if late_until is not None and late_until < due_at:
        raise CourseError(422, "invalid-dates", f"late-until ({late_until.isoformat()}) is before the due date "
                                                f"({due_at.isoformat()})")


@dataclass(frozen=True)
class Timing:
    """How one submission stands: ``status`` (on-time, late, after-deadline), how late, what it costs."""

    status: str
    due_at: datetime
    late_by: timedelta
    penalty_percent: float
    extended: bool

    def apply(self, raw: float) -> float | None:
        """The score that counts: ``raw`` less the penalty; None after the deadline (it earns nothing)."""
        if self.status == AFTER_DEADLINE:
            return None
        return round(raw * (1 - self.penalty_percent / 100), 4)

    def describe(self) -> str:
        if self.status == ON_TIME:
            return "on time" + (" (extended due date)" if self.extended else "")
        how_late = describe_delay(self.late_by)
        if self.status == AFTER_DEADLINE:
            return f"after the deadline ({how_late} after the due date): no credit"
        return f"late by {how_late}: {self.penalty_percent:g}% penalty"


def assess(win: Window, policy: LatePolicy, *, submitted_at: datetime) -> Timing:
    """How a submission made at ``submitted_at`` stands against ``win`` under ``policy``."""
    late_by = max(submitted_at - win.due_at, timedelta(0))
    if late_by == timedelta(0):
        status = ON_TIME
    elif submitted_at <= win.late_until:
        status = LATE
    else:
        status = AFTER_DEADLINE
    penalty = policy.penalty(late_by) if status == LATE else (100.0 if status == AFTER_DEADLINE else 0.0)
    return Timing(status, win.due_at, late_by, penalty, win.extended)
