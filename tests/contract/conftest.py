from tests.contract.bus_fixtures import bus, bus_topic, migrated_postgres_engine, open_consumer  # noqa: F401
from tests.contract.search_fixtures import search_index  # noqa: F401
