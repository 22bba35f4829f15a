"""The course: assignments with dates and a late policy, per-student extensions, the roster, the
gradebook an LMS imports and each student's standing.

:mod:`.policy` holds the pure rules (it reads no clock: every function takes ``now`` or the moment it
judges); :mod:`.assignments`, :mod:`.roster`, :mod:`.gradebook` and :mod:`.standing` are keyword-only
functions on a SQLAlchemy session that the API's routes and the tests call.  Refusals are
:class:`CourseError` with the HTTP status and code the API answers with.
"""

from .errors import CourseError

__all__ = ["CourseError"]
