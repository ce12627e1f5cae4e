"""Runs inside ElastAlert 2's own virtual environment (bench/.elastalert2-venv), started by
bench_alerting.py: never imports tierwatch. Loads the generated ElastAlert rules, then times
passes over every rule with ElastAlerter.run_rule in a pool of threads, as its scheduler does, and
counts the HTTP requests its Elasticsearch client sends.

    python ea2_driver.py CONFIG MODE END RUNS   ->  one JSON line on stdout

MODE steady: a warm-up pass fills each rule's in-memory state over its whole window, then each
pass queries only the newest minute (ElastAlert running continuously). MODE restart: each pass
re-queries the whole window (scan_entire_timeframe; what a restart without lost state costs).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from elasticsearch import Transport

from elastalert.elastalert import ElastAlerter

_lock = threading.Lock()
REQUESTS = [0]
_perform = Transport.perform_request


def _counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    with _lock:
        REQUESTS[0] += 1
    return _perform(self, *args, **kwargs)


Transport.perform_request = _counting  # type: ignore[method-assign]


def window(rule: dict) -> dt.timedelta:
    for key in ("timeframe", "buffer_time", "terms_window_size"):
        if key in rule:
            return rule[key]
    return dt.timedelta(hours=1)


def main() -> None:
    config, mode, end_iso, runs, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    logging.disable(logging.WARNING)
    ea = ElastAlerter(["--config", config, "--debug", "--pin_rules"])
    rules = list(ea.rules)
    minute = dt.timedelta(minutes=1)
    end0 = dt.datetime.fromisoformat(end_iso)
    if mode == "restart":
        for rule in rules:
            rule["scan_entire_timeframe"] = True
    pool = ThreadPoolExecutor(max_workers=threads)

    def one_pass(end: dt.datetime, full: bool) -> tuple[float, int, int]:
        before = REQUESTS[0]

        def run(rule: dict) -> int:
            start = end - (window(rule) if full else minute)
            return ea.run_rule(rule, end, start)

        started = time.perf_counter()
        matches = sum(pool.map(run, rules))
        return time.perf_counter() - started, REQUESTS[0] - before, matches

    results = []
    warm = one_pass(end0 - runs * minute, True)  # steady: fills the windows; restart: the same as a pass
    for i in range(runs):
        end = end0 - (runs - 1 - i) * minute
        results.append(one_pass(end, mode == "restart"))
    pool.shutdown()
    print(json.dumps({"mode": mode, "rules": len(rules), "warm_up": warm,
                      "passes": [{"seconds": s, "requests": r, "matches": m} for s, r, m in results]}))


if __name__ == "__main__":
    main()
