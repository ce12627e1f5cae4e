from tests.unit.registry.factories import _template, container, world  # noqa: F401
