"""The one error of the course logic: an HTTP-shaped refusal the API passes on as it is."""

from __future__ import annotations


class CourseError(ValueError):
    """A refusal with the HTTP status and stable ``code`` the API answers with.

    Parameters
    ----------
    status : int
        404 (not there or not open), 409 (closed, conflicts), 422 (invalid values), 429 (attempts used up).
    code : str
        Stable identifier, e.g. ``assignment-closed``.
    message : str
        For a person: what was expected and what was found.
    headers : dict, optional
        Extra response headers (``Retry-After``).
    """

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}
