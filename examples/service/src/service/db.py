"""asyncpg pool helpers, kept apart so the lifespan and the routes share one pool."""

import asyncpg

# Connecting must not hang the start-up: fail within this many seconds.
CONNECT_TIMEOUT_S: float = 5.0


async def create_pool(dsn: str, *, connect_timeout: float = CONNECT_TIMEOUT_S) -> asyncpg.Pool:
    """Open a small connection pool to ``dsn``; raises if the database does not answer in time."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=5, timeout=connect_timeout
    )
    return pool


async def close_pool(pool: asyncpg.Pool | None) -> None:
    """Close ``pool`` if one was opened, so shutdown does not leak connections."""
    if pool is not None:
        await pool.close()
