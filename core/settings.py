"""Settings read from TIERWATCH_* environment variables, with defaults that run on one machine.

One object: ``Settings`` holds the intake knobs (``TIERWATCH_INTAKE_*``) as ``settings.intake`` and
the alerting ones (``TIERWATCH_ALERT_*``) as ``settings.alerts``.
The composition root (``tierwatch.bootstrap``) reads it once and hands it to whoever needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tierwatch.core.bus import dlq_topic


class SettingsError(Exception):
    """A setting is wrong; the message names the variable and the fix."""


MiB = 1024 * 1024
_CHECKOUT = Path(__file__).resolve().parents[1]  # the repository, when running from a source checkout


class IntakeSettings(BaseSettings):
    """Intake topics and the worker's knobs. Topic names are logical; the bus adds the deployment
    prefix (TIERWATCH_KAFKA_TOPIC_PREFIX) and the partition count (TIERWATCH_KAFKA_PARTITIONS).
    External producers write to ``<prefix>reports.scam`` and ``<prefix>reports.incident``."""

    model_config = SettingsConfigDict(env_prefix="TIERWATCH_INTAKE_", extra="ignore", frozen=True)

    scam_topic: str = "reports.scam"
    incident_topic: str = "reports.incident"
    application_topic: str = "applications.events"
    alert_topic: str = "alerts"
    retention_hours: int = Field(default=24 * 14, ge=1)
    # Room for an oversized message to reach the worker and be dead-lettered with a reason,
    # instead of the broker refusing it where nobody reads the error.
    max_message_bytes: int = Field(default=8 * MiB, ge=MiB)
    group: str = "tierwatch-intake"
    # Measured (bench/bench_pipeline.py): 500 -> 1,000 -> 2,000 took two workers from ~1,800 to
    # ~2,000 to ~2,200 reports/s; fixed costs per batch (statements, commits, fsyncs) shrink.
    # Under light load batches stay small, so this does not add latency.
    batch_size: int = Field(default=2000, ge=1, le=10_000)
    poll_timeout: float = Field(default=0.5, gt=0)
    max_backoff: float = Field(default=10.0, gt=0)
    # Seconds a publish waits for the broker's acknowledgement before answering "not accepted".
    send_timeout: float = Field(default=30.0, gt=0, le=300)
    # Kafka consumer group membership. A member silent for `session_timeout` is dropped and its
    # partitions reassigned. After a broker outage longer than the session, the restarted
    # coordinator waits that long for the old members before the group re-forms, so it is also
    # the stall after the broker returns (librdkafka's 45 s default measured as ~44 s; see
    # bench/README.md, bench_outage.py). 6 s is the broker's floor (group.min.session.timeout.ms).
    session_timeout: float = Field(default=10.0, ge=6, le=1800)
    heartbeat_interval: float = Field(default=3.0, gt=0)
    # Longest a worker may spend on one batch (a database outage is waited out inside it) before
    # the group gives its partitions to another member; its batch is then redelivered.
    max_poll_interval: float = Field(default=300.0, gt=0, le=86_400)
    models_dir: str = ""  # trained detectors; empty = <TIERWATCH_DATA_DIR>/models; none active = rules

    @field_validator("heartbeat_interval")
    @classmethod
    def _heartbeat_within_session(cls, value: float, info: ValidationInfo) -> float:
        session = info.data.get("session_timeout")
        if session is not None and value * 3 > session:
            raise ValueError(f"must be at most a third of the session timeout ({session} s)")
        return value

    @field_validator("max_poll_interval")
    @classmethod
    def _poll_within_session(cls, value: float, info: ValidationInfo) -> float:
        session = info.data.get("session_timeout")
        if session is not None and value < session:
            raise ValueError(f"must be at least the session timeout ({session} s)")
        return value

    def kind_topics(self) -> dict[str, str]:
        """Message kind -> topic."""
        return {
            "scam": self.scam_topic,
            "incident": self.incident_topic,
            "application": self.application_topic,
            "alert": self.alert_topic,
        }

    def all_topics(self) -> list[str]:
        topics = list(self.kind_topics().values())
        return topics + [dlq_topic(t) for t in topics]

    @property
    def dead_letter_bytes(self) -> int:
        # A dead letter is the original record plus a few headers (reason, source offset).
        return self.max_message_bytes + 64 * 1024


_SLA = r"^[1-9][0-9]{0,5}[smhdw],[1-9][0-9]{0,5}[smhdw]$"


class AlertSettings(BaseSettings):
    """Alerting (``TIERWATCH_ALERT_*``): where the rule files are, the evaluator's lease, SLA
    clocks per severity ("ack,resolve" as compact durations), SMTP and webhook delivery."""

    model_config = SettingsConfigDict(env_prefix="TIERWATCH_ALERT_", extra="ignore", frozen=True)

    rules_dir: Path | None = None  # None: the starter rules shipped in tierwatch.rules/alerts
    evaluate_seconds: int = Field(default=5, ge=1, le=300)  # how often a worker tries to lead
    lease_seconds: int = Field(default=30, ge=5, le=600)  # embedded (SQLite) lease lifetime
    # the evaluator holds windows in memory and reads only the newest minutes (sliding.py)
    windows_in_memory: bool = True
    sla_critical: str = Field(default="15m,4h", pattern=_SLA)
    sla_high: str = Field(default="1h,24h", pattern=_SLA)
    sla_medium: str = Field(default="4h,3d", pattern=_SLA)
    sla_low: str = Field(default="1d,7d", pattern=_SLA)
    digest_hour: int = Field(default=8, ge=0, le=23)  # local time (Settings.timezone)
    base_url: str = "http://127.0.0.1:8000"  # links in notifications
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "tierwatch-alerts@localhost"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")  # environment only, never the database
    smtp_starttls: bool = False
    send_timeout: float = Field(default=10.0, gt=0)

    def sla(self, severity: str) -> tuple[str, str]:
        """(acknowledge within, resolve within) for a severity, as compact durations."""
        ack, _, resolve = getattr(self, f"sla_{severity}").partition(",")
        return ack, resolve


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
    secret_key: str = ""  # Flask sessions and CSRF; empty = the "session" key of the key ring
    # Cookies carry Secure, and the session cookie the __Host- prefix (which requires Secure).
    # Turn off only to serve plain HTTP to a browser that drops Secure cookies there (README).
    secure_cookies: bool = True
    # Flask-Limiter's storage. memory:// is exact and free for one waitress process (its threads
    # share the counters) but resets on restart, and N processes would each allow the full limit:
    # run several processes behind a shared store instead (redis://host:6379, memcached://...).
    rate_limit_storage: str = "memory://"
    keys_dir: Path | None = None  # secrets outside the database (core/keys.py); default <data dir>/keys
    timezone: str = "Asia/Shanghai"
    # Real datasets (training, demo filings); default: ../shared/data beside a source checkout.
    shared_data_dir: Path | None = Field(default=None, validation_alias="TIERWATCH_SHARED_DATA")
    # Public pages: a number's report counts are shown only once this many different people
    # reported it (against defamation by one person); the trends page and popular checks are
    # computed at most once per cache period per process.
    public_min_reporters: int = Field(default=3, ge=2, le=1000)
    public_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Prevention tips a regulator edited: <dir>/tips/<topic>.<lang>.md replace the bundled ones.
    content_dir: Path | None = None
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @field_validator("data_dir", "keys_dir", "content_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        # A relative directory is taken from where the command runs, once: every path and the
        # SQLite URL derived from it then name the same place, and messages show which place.
        return value.expanduser().absolute() if value is not None else None

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

    @property
    def resolved_keys_dir(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    @property
    def models_dir(self) -> Path:
        return Path(self.intake.models_dir) if self.intake.models_dir else self.data_dir / "models"

    @property
    def resolved_shared_data_dir(self) -> Path:
        return self.shared_data_dir or _CHECKOUT.parent / "shared" / "data"


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
        field = "_".join(str(part) for part in err["loc"]) if err["loc"] else "?"
        if exc.title == IntakeSettings.__name__:  # built by Settings' default factory
            field = f"intake_{field}"
        fix = _FIXES.get(field, "see README 'Settings'")
        raise SettingsError(
            f"TIERWATCH_{field.upper()}: {err['msg']} (got {err.get('input')!r}); fix: {fix}"
        ) from None
