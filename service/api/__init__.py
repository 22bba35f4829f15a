"""The HTTP API (FastAPI), versioned under ``/api/v1``; :func:`create_app` builds it."""

from .app import create_app

__all__ = ["create_app"]
