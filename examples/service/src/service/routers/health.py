"""Liveness endpoint: answers without the database so a probe only tests the process."""

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Report that the process is up and serving requests."""
    return {"status": "ok"}
