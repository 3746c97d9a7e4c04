"""An app module that raises on import."""

import os

from fastapi import FastAPI

app = FastAPI(title=os.environ["MWAPPS_TITLE_THAT_IS_NOT_SET"])
