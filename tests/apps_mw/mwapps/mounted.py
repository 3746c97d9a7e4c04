"""A sub-app mounted under /admin whose session reader has no session of its own."""

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from mwapps.common import AuthContextMiddleware

admin = FastAPI()
admin.add_middleware(AuthContextMiddleware)
admin.add_middleware(GZipMiddleware)

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"])
app.mount("/admin", admin)
