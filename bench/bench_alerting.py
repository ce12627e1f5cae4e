"""Alerting cycle on the real Elasticsearch: 200 rules of mixed types over 1,000,000 indexed reports,
ours (full cycle: plan, batched searches, decisions, one database transaction) against
ElastAlert 2 on the same node, index and rules (installed from PyPI into its own venv here).

    tierwatch services up
    python bench/bench_alerting.py                 # 1,000,000 reports (indexed once, then reused)
    python bench/bench_alerting.py --docs 100000 --rules 50 --runs 3   # a quick look
    python bench/bench_alerting.py --no-ea2        # ours only

Prints, per database (SQLite, PostgreSQL), the full-cycle median and the requests per cycle, then
ElastAlert 2 in steady state (newest minute per rule, windows held in memory) and restart-safe
(every window re-read), and the ratios. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy.orm import sessionmaker  # noqa: E402

from tierwatch.core.db import make_engine  # noqa: E402
from tierwatch.core.migrate import upgrade  # noqa: E402
from tierwatch.core.search.elastic import ElasticIndex  # noqa: E402
from tierwatch.monitoring.alerts.cycle import CycleContext, run_cycle  # noqa: E402
from tierwatch.monitoring.alerts.model import AlertRule  # noqa: E402
from tierwatch.monitoring.alerts.planner import Due, plan  # noqa: E402
from tierwatch.monitoring.alerts.rules import load_rule  # noqa: E402
from tierwatch.monitoring.alerts.sliding import Sliding  # noqa: E402
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA  # noqa: E402

from bench.cpu import process_cpu  # noqa: E402

ES = os.environ.get("TIERWATCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
PG = os.environ.get("TIERWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://tierwatch:tierwatch@127.0.0.1:5432/tierwatch_test")
PREFIX = "twbench-alerting-"
WARM_UP = 2  # cycles before the measured ones, with windows held in memory (see run_ours)
EA_VENV = REPO / "bench" / ".elastalert2-venv"
EA_PACKAGES = ["elastalert2==2.19.0", "pytz"]  # 2.19.0 imports pytz without declaring it

REGIONS = ["广州", "深圳", "东莞", "佛山", "珠海", "汕头", "惠州", "中山", "江门", "湛江", "茂名", "肇庆",
           "梅州", "汕尾", "河源", "阳江", "清远", "潮州", "揭阳", "云浮"]
CHANNELS = ["phone", "sms", "messaging_app", "video_call", "social_media", "website"]
TECH = ["cloned_voice", "face_swap_video", "chatbot", "generated_media"]
SCAM = ["impersonate_authority", "loan_credit", "fake_customer_service", "impersonate_acquaintance",
        "task_rebate", "romance", "investment", "phishing"]


# --- data ------------------------------------------------------------------------------------


def reports(n: int, end: datetime, seed: int = 1) -> Any:
    """n synthetic reports over the 30 days before ``end``: Zipf-like identifiers (a few numbers
    reported very often), ~10 % linked to tiered applications, partner feeds, incidents."""
    rng = random.Random(seed)
    span = 30 * 86400
    for i in range(n):
        at = end - timedelta(seconds=rng.random() ** 0.8 * span)  # more recent reports than old ones
        d: dict[str, Any] = {
            "id": f"b{i:08d}", "kind": "scam" if rng.random() < 0.95 else "incident",
            "channel": rng.choice(CHANNELS), "region": rng.choice(REGIONS), "scam_type": rng.choice(SCAM),
            "reported_at": at, "received_at": at + timedelta(seconds=rng.randrange(120)), "reporter_type": "citizen",
            "reporter_key": f"rk{rng.randrange(n // 3 + 1)}", "scam_probability": round(rng.random(), 4),
            "description": rng.choice(["冒充客服退款诈骗", "网络投资理财", "刷单返利", "AI 换脸视频借钱"])}
        if rng.random() < 0.2:
            d["ai_technique"] = rng.choice(TECH)
        if rng.random() < 0.6:
            d["ident_phone"] = [f"+861{rng.randrange(3, 9)}{int(rng.paretovariate(1.2) * 1000) % 10**9:09d}"]
        if rng.random() < 0.2:
            d["ident_domain"] = [f"d{int(rng.paretovariate(1.1) * 100) % 50000}.top"]
        if rng.random() < 0.1:
            d["ident_payment_account"] = [f"6222{int(rng.paretovariate(1.3) * 10) % 10**8:012d}"]
        if rng.random() < 0.1:
            d["app"] = f"app{int(rng.paretovariate(1.2) * 10) % 2000}"
        if rng.random() < 0.3:
            d["campaign_id"] = f"c{rng.randrange(5000)}"
        if rng.random() < 0.1:
            d["application_id"] = f"{rng.randrange(300)}"
            d["tier"] = rng.choice(["low", "medium", "high"])
        if rng.random() < 0.2:
            d["reporter_type"] = "partner_feed"
            d["source"] = f"feed-{rng.randrange(6)}"
        if rng.random() < 0.5:
            d["amount_lost"] = float(rng.choice([500, 2000, 8800, 30000, 150000]))
        if d["kind"] == "incident":
            d["affected_users"] = rng.randrange(100000)
            d["incident_type"] = rng.choice(["data_leak", "harmful_content", "outage"])
        yield d


def ensure_data(es: ElasticIndex, docs: int, workdir: Path) -> datetime:
    """The reports index, built once and reused while its document count and marker match."""
    marker = workdir / "alerting-data.json"
    full = PREFIX + REPORTS_INDEX
    if marker.exists() and es.client.indices.exists(index=full):
        meta = json.loads(marker.read_text())
        if meta["docs"] == docs and es.client.count(index=full)["count"] == docs:
            print(f"reusing {full}: {docs:,} reports ending {meta['end']}")
            return datetime.fromisoformat(meta["end"])
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    es.delete_index(REPORTS_INDEX)
    es.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    es.client.indices.put_settings(index=full, settings={"refresh_interval": "-1"})
    started, batch, written = time.perf_counter(), [], 0
    for d in reports(docs, end):
        batch.append(d)
        if len(batch) == 5000:
            written += es.bulk_index(REPORTS_INDEX, batch)
            batch = []
            if written % 100_000 == 0:
                print(f"  indexed {written:,} ({written / (time.perf_counter() - started):,.0f}/s)", flush=True)
    written += es.bulk_index(REPORTS_INDEX, batch)
    es.client.indices.put_settings(index=full, settings={"refresh_interval": "1s"})
    es.refresh(REPORTS_INDEX)
    es.client.indices.forcemerge(index=full, max_num_segments=1, request_timeout=1800)
    print(f"indexed {written:,} reports in {time.perf_counter() - started:.0f} s (force-merged)")
    workdir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"docs": docs, "end": end.isoformat()}))
    return end


# --- rules: ours and ElastAlert's equivalents ------------------------------------------------------

# type -> share of the rule set
MIX = [("frequency", 30), ("spike", 15), ("new_term", 10), ("cardinality", 10), ("metric", 10),
       ("flatline", 10), ("threshold", 15)]


@dataclass
class GeneratedRule:
    ours: AlertRule
    ea2: dict[str, Any] | None  # None: ElastAlert cannot express it (tier-dependent threshold)


def _filter(rng: random.Random) -> tuple[dict[str, Any], str | None]:
    match: dict[str, Any] = {"kind": "scam"}
    r = rng.random()
    if r < 0.35:
        match["channel"] = rng.choice(CHANNELS)
    elif r < 0.55:
        match["ai_technique"] = rng.choice(TECH)
    elif r < 0.7:
        match["scam_type"] = rng.choice(SCAM)
    text = rng.choice(["客服", "投资", None, None, None])
    return match, text


def _ea_filter(match: dict[str, Any], text: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"term": {k: v}} for k, v in match.items()]
    if text:
        out.append({"match_phrase": {"description": text}})
    return out


def generate_rules(n: int, seed: int = 2) -> list[GeneratedRule]:
    rng = random.Random(seed)
    kinds = [k for k, share in MIX for _ in range(share * n // 100)]
    kinds += ["frequency"] * (n - len(kinds))
    out = []
    for i, kind in enumerate(kinds):
        match, text = _filter(rng)
        hours = rng.choice([1, 2, 6, 24])
        minutes = hours * 60
        body: dict[str, Any] = {}
        ea: dict[str, Any] = {}
        tiered = False
        if kind == "frequency":
            field = rng.choice(["ident_phone", "ident_phone", "region", "app", "ident_domain", "campaign_id"])
            need = rng.choice([3, 5, 10, 20])
            tiered = rng.random() < 0.2 and field == "ident_phone"
            body = {"group_by": field, "window": f"{hours}h",
                    "threshold": {"high": max(2, need // 3), "medium": max(2, need // 2), "low": need} if tiered else need}
            ea = {"type": "frequency", "num_events": need, "timeframe": {"minutes": minutes}, "query_key": field,
                  "use_terms_query": True, "terms_size": 10000}
        elif kind == "spike":
            field = rng.choice(["region", None, "scam_type"])
            body = {"window": f"{hours}h", "ratio": 3, "min_current": 10, **({"group_by": field} if field else {})}
            ea = {"type": "spike", "spike_height": 3, "spike_type": "up", "threshold_cur": 10,
                  "timeframe": {"minutes": minutes},
                  **({"query_key": field, "use_terms_query": True, "terms_size": 10000} if field else {"use_count_query": True})}
        elif kind == "new_term":
            field = rng.choice(["ident_domain", "app", "ident_payment_account"])
            body = {"field": field, "lookback": "30d", "window": "1h"}
            ea = {"type": "new_term", "fields": [field], "terms_window_size": {"days": 30}, "query_key": field,
                  "use_terms_query": True, "terms_size": 10000}
        elif kind == "cardinality":
            body = {"group_by": "ident_phone", "distinct_field": "region", "window": f"{hours}h", "threshold": 3}
            ea = {"type": "cardinality", "cardinality_field": "region", "max_cardinality": 2, "query_key": "ident_phone",
                  "timeframe": {"minutes": minutes}}
        elif kind == "metric":
            body = {"group_by": "ident_phone", "metric": {"op": "sum", "field": "amount_lost"}, "above": 300000,
                    "window": f"{hours}h"}
            ea = {"type": "metric_aggregation", "metric_agg_key": "amount_lost", "metric_agg_type": "sum",
                  "max_threshold": 300000, "query_key": "ident_phone", "buffer_time": {"minutes": minutes},
                  "min_doc_count": 1, "terms_size": 10000}  # its default, 50, would skip most numbers
        elif kind == "flatline":
            match = {"reporter_type": "partner_feed"}
            text = None
            body = {"group_by": "source", "window": f"{hours}h", "threshold": 1, "baseline": "7d"}
            ea = {"type": "flatline", "threshold": 1, "query_key": "source", "timeframe": {"minutes": minutes},
                  "use_terms_query": True, "terms_size": 10000}
        else:  # threshold, per report
            bound = rng.choice([0.995, 0.999])
            body = {"field": "scam_probability", "above": bound, "group_by": "ident_phone"}
            ea = {"type": "any"}
            match = {**match}
        flt: dict[str, Any] = {"match": match, **({"text": text} if text else {})}
        rule_id = f"b{i:03d}"
        doc = {"schema_version": 1, "id": rule_id, "title": {"zh": "基准", "en": "bench"}, "type": kind,
               "severity": "high", "owner": "desk", "group": "bench", "filter": flt,
               "schedule": {"every": "1m", "buffer": 0}, **body}
        ours = load_rule(yaml.safe_dump(doc, allow_unicode=True))
        ea_rule = None
        if not tiered:
            ea_filter = _ea_filter(match, text)
            if kind == "threshold":
                ea_filter.append({"range": {"scam_probability": {"gt": body["above"]}}})
            ea_rule = {"name": rule_id, "index": PREFIX + REPORTS_INDEX, "timestamp_field": "reported_at",
                       "filter": ea_filter, "alert": ["debug"], "realert": {"minutes": 60}, **ea}
        out.append(GeneratedRule(ours, ea_rule))
    return out


# --- ours ----------------------------------------------------------------------------------------


def run_ours(label: str, url: str, es: ElasticIndex, rules: list[AlertRule], end: datetime, runs: int,
             memory: bool = True) -> dict[str, Any]:
    """``memory``: windows held in memory across cycles (the worker's default), else every
    window read from the index each cycle."""
    upgrade(url)
    engine = make_engine(url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    gc.collect()  # the previous run's windows are garbage: not collected inside this run's cycles
    sliding = Sliding() if memory else None
    label += ", windows in memory" if memory else ", every window read"
    ctx = CycleContext(es, evaluator="bench", sliding=sliding)
    cycles = []
    cpu0 = process_cpu(os.getpid())
    # Warm-up, as after any start of the evaluator: the first cycle reads the windows' span and
    # opens the alerts; the second evaluates every group once (later ones only keys that changed).
    warm = WARM_UP if memory else 1
    for i in range(runs + warm):
        at = end - timedelta(minutes=runs + warm - 1 - i)
        started = time.perf_counter()
        with sessions() as session:
            result = run_cycle(session, rules, at, ctx)
            session.commit()
        cycles.append((time.perf_counter() - started, result))
        assert not result.errors, result.errors
    cpu = process_cpu(os.getpid()) - cpu0
    engine.dispose()
    measured = cycles[warm:]
    seconds = [s for s, _ in measured]
    last = measured[-1][1]
    print(f"ours, {label} (load average {os.getloadavg()[0]:.1f}): cycle median {statistics.median(seconds):.3f} s "
          f"(runs {', '.join(f'{s:.3f}' for s in seconds)}; warm-up {' + '.join(f'{c[0]:.3f}' for c in cycles[:warm])} s, "
          f"{cycles[0][1].opened} alerts opened); per cycle: {last.round_trips} HTTP requests "
          f"({last.requests} searches incl. pages and links, {last.distinct} distinct), "
          f"{len(last.evaluated)} rule evaluations, {last.updated} alert updates; "
          f"client CPU {cpu / (runs + warm):.2f} s per cycle"
          + (f"; documents read from the index: {sliding.docs_read:,} in all cycles" if sliding else ""), flush=True)
    return {"median": statistics.median(seconds), "round_trips": last.round_trips, "requests": last.requests,
            "distinct": last.distinct}


def pg_database() -> tuple[str, str]:
    name = f"tw_bench_alerting_{secrets.token_hex(3)}"
    admin = make_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return PG.rsplit("/", 1)[0] + f"/{name}", name


def drop_pg(name: str) -> None:
    admin = make_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


# --- ElastAlert 2 ------------------------------------------------------------------------------------


def ea2_venv() -> Path:
    python = EA_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {' '.join(EA_PACKAGES)} into {EA_VENV} (its own venv: it pins elasticsearch==7.10.1)")
        subprocess.run([sys.executable, "-m", "venv", str(EA_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *EA_PACKAGES], check=True)
    version = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('elastalert2'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    print(f"ElastAlert 2 {version} in {EA_VENV}")
    return python


def run_ea2(python: Path, workdir: Path, ea_rules: list[dict[str, Any]], end: datetime, runs: int,
            restart_runs: int, threads: int) -> dict[str, Any]:
    host, port = ES.split("://", 1)[1].rstrip("/").split(":")
    folder = workdir / "ea2" / "rules"
    if folder.exists():
        for old in folder.glob("*.yaml"):
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    for rule in ea_rules:
        (folder / f"{rule['name']}.yaml").write_text(yaml.safe_dump(rule, allow_unicode=True))
    writeback = f"{PREFIX}ea2-status"
    config = workdir / "ea2" / "config.yaml"
    config.write_text(yaml.safe_dump({
        "rules_folder": str(folder), "run_every": {"minutes": 1}, "buffer_time": {"minutes": 1},
        "es_host": host, "es_port": int(port), "writeback_index": writeback, "max_query_size": 10000,
        "old_query_limit": {"days": 7}, "alert_time_limit": {"days": 1}, "max_threads": threads}))
    venv_bin = python.parent
    subprocess.run([str(venv_bin / "elastalert-create-index"), "--config", str(config), "--no-auth", "--no-ssl",
                    "--recreate", "True"], check=True, capture_output=True, cwd=workdir)
    out = {}
    for mode, n in (("steady", runs), ("restart", restart_runs)):
        if n == 0:
            continue
        started = time.perf_counter()
        done = subprocess.run([str(python), str(REPO / "bench" / "ea2_driver.py"), str(config), mode, end.isoformat(),
                               str(n), str(threads)], capture_output=True, text=True, cwd=workdir)
        if done.returncode:
            raise SystemExit(f"ElastAlert 2 ({mode}) failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        passes = result["passes"]
        seconds = [p["seconds"] for p in passes]
        out[mode] = {"median": statistics.median(seconds), "requests": passes[-1]["requests"],
                     "warm_up": result["warm_up"][0], "rules": result["rules"]}
        print(f"ElastAlert 2, {mode} (load average {os.getloadavg()[0]:.1f}): {result['rules']} rules, pass median {statistics.median(seconds):.3f} s "
              f"(passes {', '.join(f'{s:.3f}' for s in seconds)}; warm-up pass {result['warm_up'][0]:.1f} s, "
              f"{result['warm_up'][1]} requests); {passes[-1]['requests']} HTTP requests per pass "
              f"(wall {time.perf_counter() - started:.0f} s in all)", flush=True)
    es = ElasticIndex(ES, prefix="")
    for suffix in ("", "_status", "_silence", "_error", "_past"):
        es.client.indices.delete(index=writeback + suffix, ignore_unavailable=True)
    es.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10,
                        help="measured cycles (after the warm-up: two cycles with windows in memory, else one)")
    parser.add_argument("--ea2-restart-runs", type=int, default=1,
                        help="restart-safe ElastAlert passes (slow: ~10 min each at 1M reports); 0: none")
    parser.add_argument("--ea2-threads", type=int, default=10, help="ElastAlert's max_threads (its default)")
    parser.add_argument("--no-ea2", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tierwatch-bench"))
    args = parser.parse_args()
    load = os.getloadavg()[0]
    es = ElasticIndex(ES, prefix=PREFIX, request_timeout=300)
    end = ensure_data(es, args.docs, args.workdir)
    generated = generate_rules(args.rules)
    rules = [g.ours for g in generated]
    counts: dict[str, int] = {}
    for r in rules:
        counts[r.type] = counts.get(r.type, 0) + 1
    first_round = plan([Due(r, end) for r in rules])
    print(f"{len(rules)} rules ({', '.join(f'{k} {v}' for k, v in counts.items())}); {len(first_round.requests)} "
          f"distinct first-round requests; load average {load:.1f} at the start")
    ours: dict[str, Any] = {}
    args.workdir.mkdir(parents=True, exist_ok=True)
    sqlite = args.workdir / f"alerting-{secrets.token_hex(3)}.db"
    try:
        ours["SQLite"] = run_ours("SQLite", f"sqlite:///{sqlite}", es, rules, end, args.runs)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
    if not args.no_postgres:
        url, name = pg_database()
        try:
            ours["PostgreSQL"] = run_ours("PostgreSQL", url, es, rules, end, args.runs)
        finally:
            drop_pg(name)
    sqlite = args.workdir / f"alerting-{secrets.token_hex(3)}.db"
    try:  # for comparison, not in the ratio: every window read from the index each cycle. After the
        # measured runs: its 350 searches a cycle leave Elasticsearch busier for a while.
        run_ours("SQLite", f"sqlite:///{sqlite}", es, rules, end, args.runs, memory=False)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
    if not args.no_ea2:
        ea_rules = [g.ea2 for g in generated if g.ea2 is not None]
        ea = run_ea2(ea2_venv(), args.workdir, ea_rules, end, args.runs, args.ea2_restart_runs, args.ea2_threads)
        # The machine is shared: ours once more right after ElastAlert, under the load it had.
        print(f"load average {os.getloadavg()[0]:.1f}")
        sqlite_again = args.workdir / f"alerting-{secrets.token_hex(3)}.db"
        try:
            ours["SQLite, after ElastAlert"] = run_ours("SQLite, after ElastAlert", f"sqlite:///{sqlite_again}", es,
                                                        rules, end, args.runs)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_again}{suffix}").unlink(missing_ok=True)
        best = min(o["median"] for o in ours.values())
        print(f"\nElastAlert 2 ran {len(ea_rules)} of {len(rules)} rules (the others have tier-dependent thresholds).")
        for mode in (m for m in ("steady", "restart") if m in ea):
            print(f"ratio, ElastAlert 2 {mode} / ours (best database): {ea[mode]['median'] / best:.1f}x time, "
                  f"{ea[mode]['requests'] / min(o['round_trips'] for o in ours.values()):.0f}x HTTP requests")
    es.close()


if __name__ == "__main__":
    main()
