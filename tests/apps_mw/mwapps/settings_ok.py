"""Settings that validate with the defaults."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything has a default."""

    model_config = SettingsConfigDict(env_prefix="MWAPPS_")

    debug: bool = False
    workers: int = 2
