"""The alert rules in force: a directory of rule files, reloaded when a file changes. A broken
edit never stops evaluation: the last good set stays in force and the errors are logged with
their file and line (``tierwatch alerts validate`` says the same before a deploy)."""

from __future__ import annotations

import logging
from importlib.resources.abc import Traversable
from pathlib import Path

from tierwatch.monitoring.alerts.model import AlertRule, AlertRuleInvalid
from tierwatch.monitoring.alerts.rules import STARTER_RULES, load_rules

log = logging.getLogger(__name__)


class RuleCatalog:
    def __init__(self, directory: Path | Traversable | None = None):
        self.directory = directory if directory is not None else STARTER_RULES
        self._rules: tuple[AlertRule, ...] = ()
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self.errors: tuple[str, ...] = ()

    def _files_stamp(self) -> tuple[tuple[str, int, int], ...]:
        if not isinstance(self.directory, Path):
            return ()  # packaged rules do not change under a running process
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                            for p in self.directory.glob("*.yaml")))

    def rules(self) -> tuple[AlertRule, ...]:
        stamp = self._files_stamp()
        if stamp != self._stamp or self._stamp is None:
            try:
                self._rules, self.errors = load_rules(self.directory), ()
            except AlertRuleInvalid as exc:
                self.errors = tuple(str(e) for e in exc.errors)
                log.error("alert rules not reloaded, the last good set stays in force:\n%s", exc)
            self._stamp = stamp
        return self._rules

    def threshold_rules(self) -> tuple[AlertRule, ...]:
        return tuple(r for r in self.rules() if r.type == "threshold" and r.enabled)
