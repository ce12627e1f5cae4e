import sqlalchemy as sa

from tierwatch.core.db import make_engine


def test_upgrade_creates_the_antifraud_tables(migrated_sqlite):
    engine = make_engine(migrated_sqlite)
    inspector = sa.inspect(engine)
    assert {"antifraud_model_versions", "antifraud_labels"} <= set(inspector.get_table_names())
    indexes = {i["name"]: i for i in inspector.get_indexes("antifraud_model_versions")}
    assert indexes["uq_antifraud_model_versions_active_use"]["unique"]
    engine.dispose()
