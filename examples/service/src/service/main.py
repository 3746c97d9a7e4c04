"""ASGI entry point: `uvicorn service.main:app` and preflight's `app` setting load this.

The app is built at import time (``app = create_app()``), so everything
``create_app`` imports is a boot-time import that preflight follows.
"""

from fastapi import FastAPI

from service.app_factory import create_app

app: FastAPI = create_app()
