"""The incident: AuthContext added after Session, so it is OUTSIDE it and finds no session."""

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from mwapps.common import AuthContextMiddleware, UvicornCompatibleSessionMiddleware

app = FastAPI()
app.add_middleware(UvicornCompatibleSessionMiddleware, secret_key="fixture-session-key-2")  # noqa: S106 - fixture
app.add_middleware(AuthContextMiddleware)
app.add_middleware(CORSMiddleware, allow_origins=["*"])
