"""A small read-only collection, touching the database when one is configured."""

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

router = APIRouter(tags=["items"])


class Item(BaseModel):
    """One item of the example collection."""

    id: int
    name: str


ITEMS: tuple[Item, ...] = (
    Item(id=1, name="alpha"),
    Item(id=2, name="beta"),
    Item(id=3, name="gamma"),
)


def get_pool(request: Request) -> asyncpg.Pool | None:
    """Return the pool the lifespan opened, or ``None`` when no database is configured."""
    pool: asyncpg.Pool | None = getattr(request.app.state, "pool", None)
    return pool


@router.get("/items")
async def list_items(
    response: Response,
    pool: Annotated[asyncpg.Pool | None, Depends(get_pool)],
) -> list[Item]:
    """List the items; with a pool, first prove the database answers (``SELECT 1``).

    The ``X-Database`` header says whether the query ran, so callers and tests can tell.
    """
    if pool is None:
        response.headers["X-Database"] = "not-configured"
    else:
        one = await pool.fetchval("SELECT 1")
        response.headers["X-Database"] = "ok" if one == 1 else "unexpected"
    return list(ITEMS)
