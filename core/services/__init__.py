"""Real Kafka, Elasticsearch and PostgreSQL on 127.0.0.1 for development and integration tests."""

from core.services.manager import down, main, status, up
from core.services.process import ServiceError

__all__ = ["ServiceError", "down", "main", "status", "up"]
