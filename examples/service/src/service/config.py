"""Settings read from the environment, so a container is configured without code changes."""

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The service's environment variables (names are the field names, upper or lower case).

    Lists (``ALLOWED_HOSTS``, ``CORS_ORIGINS``) are given as JSON, e.g. ``'["api.example.com"]'``.
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    # No default on purpose: without DATABASE_URL the service runs without a pool,
    # instead of silently talking to some guessed local database.
    database_url: str | None = None
    # The default is for local development only; set SESSION_SECRET in any deployment.
    session_secret: SecretStr = SecretStr("dev-only-change-me")
    allowed_hosts: list[str] = ["*"]
    cors_origins: list[str] = ["*"]


@lru_cache
def get_settings() -> Settings:
    """Return the settings, read from the environment once per process."""
    return Settings()
