"""``/me``: who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import User
from ..errors import documented
from ..schemas import Me

router = APIRouter(tags=["account"], responses=documented(401))


@router.get("/me", response_model=Me, summary="The token's user")
def me(user: User) -> Me:
    return Me(name=user.name, role=user.role)
