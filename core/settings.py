"""Settings read from TIERWATCH_* environment variables, with defaults that run on one machine."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting is wrong; the message names the variable and the fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIERWATCH_", extra="ignore", frozen=True)

    data_dir: Path = Path("var")
    database_url: str = ""
    bus: Literal["sql", "kafka"] = "sql"
    search: Literal["fts", "elasticsearch"] = "fts"
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = "tierwatch."
    kafka_partitions: int = Field(default=6, ge=1, le=1000)
    elasticsearch_url: str = "http://127.0.0.1:9200"
    index_prefix: str = "tierwatch-"
    secret_key: str = ""
    timezone: str = "Asia/Shanghai"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _host_port(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError("must be host:port[,host:port...]")
        return value

    @field_validator("elasticsearch_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tierwatch.db'}"

    @property
    def search_db_path(self) -> Path:
        return self.data_dir / "search.db"


_FIXES = {
    "database_url": "e.g. sqlite:///var/tierwatch.db or postgresql+psycopg://user:pw@127.0.0.1:5432/tierwatch",
    "bus": "use 'sql' (embedded queue) or 'kafka'",
    "search": "use 'fts' (embedded index) or 'elasticsearch'",
    "kafka_bootstrap": "e.g. 127.0.0.1:9092",
    "elasticsearch_url": "e.g. http://127.0.0.1:9200",
}


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises SettingsError with one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        fix = _FIXES.get(field, "see README 'Settings'")
        raise SettingsError(
            f"TIERWATCH_{field.upper()}: {err['msg']} (got {err.get('input')!r}); fix: {fix}"
        ) from None
