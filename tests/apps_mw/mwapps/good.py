"""The right order: add_middleware innermost first (the LAST call is the outermost)."""

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from mwapps.common import AuthContextMiddleware, UvicornCompatibleSessionMiddleware

app = FastAPI()
app.add_middleware(AuthContextMiddleware)
app.add_middleware(UvicornCompatibleSessionMiddleware, secret_key="fixture-session-key-1")  # noqa: S106 - fixture
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
app.add_middleware(CORSMiddleware, allow_origins=["*"])
