"""Settings with a prefix, an alias, a nested model and secrets."""

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Database(BaseModel):
    """Nested: set through MWAPPS_DATABASE__URL."""

    url: str
    pool_size: int = 5


class Settings(BaseSettings):
    """Required values the container must provide."""

    model_config = SettingsConfigDict(env_prefix="MWAPPS_", env_nested_delimiter="__")

    database: Database
    api_token: SecretStr = Field(min_length=32)
    port: int = 8000
    region: str = Field(validation_alias="CLOUD_REGION")

    @field_validator("port")
    @classmethod
    def _port_range(cls, value: int) -> int:
        if not 1024 <= value <= 65535:
            msg = f"port {value} is out of range"  # quotes the value: must not escape
            raise ValueError(msg)
        return value
