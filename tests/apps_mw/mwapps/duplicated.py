"""CORSMiddleware registered twice (a factory that runs its setup twice)."""

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

app = FastAPI()
app.add_middleware(GZipMiddleware)
for _ in range(2):
    app.add_middleware(CORSMiddleware, allow_origins=["*"])
