"""Real Kafka, Elasticsearch and PostgreSQL on 127.0.0.1 for development and integration tests."""

from tierwatch.core.services.manager import down, main, status, up
from tierwatch.core.services.process import ServiceError

__all__ = ["ServiceError", "down", "main", "status", "up"]
