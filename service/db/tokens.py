"""Bearer tokens: created once, stored as SHA-256 only, revocable.

A token is 256 random bits, so a plain (unsalted) SHA-256 is enough to make the stored
hash useless to someone who reads the database: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ROLES, Token, User, utcnow

PREFIX = "nng_"


class TokenError(ValueError):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, *, name: str, role: str) -> tuple[Token, str]:
    """A new token for the user ``name`` (created with ``role`` if new).  Returns (row, plaintext)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise TokenError("the name must be 1 to 200 characters")
    if role not in ROLES:
        raise TokenError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        user = User(name=name, role=role)
        session.add(user)
        session.flush()
    elif user.role != role:
        raise TokenError(f"{name!r} is already known as {user.role}; a name keeps its role")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = Token(user_id=user.id, sha256=token_hash(plaintext), prefix=plaintext[:10])
    session.add(token)
    session.flush()
    return token, plaintext


def active_token(session: Session, plaintext: str) -> Token | None:
    """The unrevoked token with this text, or None."""
    if not plaintext or len(plaintext) > 200:
        return None
    return session.scalar(select(Token).where(Token.sha256 == token_hash(plaintext), Token.revoked_at.is_(None)))


def authenticate(session: Session, plaintext: str) -> User | None:
    """The user holding this (unrevoked) token, or None."""
    token = active_token(session, plaintext)
    return token.user if token is not None else None


def list_tokens(session: Session) -> list[Token]:
    return list(session.scalars(select(Token).order_by(Token.id)))


def revoke(session: Session, token_id: int) -> Token:
    token = session.get(Token, token_id)
    if token is None:
        raise TokenError(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
