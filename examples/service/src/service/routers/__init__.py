"""HTTP routers included by the app factory."""

from service.routers import health, items

__all__ = ["health", "items"]
