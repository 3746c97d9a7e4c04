"""The service's own ASGI middleware."""

from service.middleware.auth import AuthMiddleware

__all__ = ["AuthMiddleware"]
