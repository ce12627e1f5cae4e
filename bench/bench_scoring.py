"""Scoring speed of the anti-fraud detector: batch throughput and single-report latency.

    python bench/bench_scoring.py [--models-dir DIR] [--batch 20000] [--runs 5]

Uses the active report model in --models-dir (default: <TIERWATCH_DATA_DIR>/models); with none
there, trains the default configuration into a temporary folder first (~2-5 minutes). The
workload mixes real Chinese fraud and normal texts, real English SMS and synthetic reports with
every field filled (Chinese, English, mixed), cycled up to --batch reports.
See bench/README.md ("Anti-fraud scoring") for what is measured and the figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # before numpy / xgboost start their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tierwatch.antifraud.training import datasets  # noqa: E402
from tierwatch.antifraud.reputation import InMemoryReputation  # noqa: E402
from tierwatch.antifraud.scoring import Detector  # noqa: E402
from tierwatch.antifraud.training.synth.generate import generate_reports  # noqa: E402


def workload(n: int, data_dir: Path | None) -> tuple[list[dict], InMemoryReputation]:
    synthetic = generate_reports(6000, seed=123)
    history = InMemoryReputation.from_reports(e.report for e in synthetic[:3000])
    reports = [e.report for e in synthetic[3000:]]
    if data_dir and datasets.available(data_dir):
        reports += [e.report for e in datasets.load_telecom(data_dir)]
        reports += [e.report for e in datasets.load_uci(data_dir)][:2000]
    out = [reports[i % len(reports)] for i in range(n)]
    return out, history


def model_facts(model) -> dict:
    """Size of the model: features and trees (XGBoost) or features and heads (linear)."""
    from tierwatch.antifraud.linear_model import LinearReportModel

    if isinstance(model, LinearReportModel):
        return {"kind": "linear", "n_features": model.n_features, "type_heads": len(model.type_classes)}
    return {"kind": "xgboost", "n_features": len(model.featurizer.feature_names),
            "trees": {n: h.booster.num_boosted_rounds() for n, h in model.heads.items()}}


def timed(fn, runs: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds per run; process CPU seconds (all threads) appended to ``cpu``."""
    times = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--single", type=int, default=300, help="single-report calls for latency")
    args = parser.parse_args()

    data_dir = Path(os.environ.get("TIERWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
    data_dir = data_dir if data_dir.is_dir() else None
    models_dir = args.models_dir
    if models_dir is None:
        from tierwatch.core.settings import load_settings

        models_dir = load_settings().data_dir / "models"
    detector = Detector.load_active(models_dir) if models_dir.exists() else None
    if detector is None or detector.report_model is None:
        from tierwatch.antifraud.training.pipeline import Corpus, train_report

        models_dir = Path(tempfile.mkdtemp(prefix="bench-models-"))
        print(f"no active model: training one into {models_dir}", file=sys.stderr)
        train_report(models_dir, Corpus(data_dir), activate=True, progress=True)
        detector = Detector.load_active(models_dir)
    assert detector is not None

    reports, history = workload(args.batch, data_dir)
    detector.score_batch(reports[:500])  # warm-up: first-call allocations, thread pools
    results: dict = {
        "model_version": detector.report_version,
        **model_facts(detector.report_model),
        "batch": args.batch,
        "runs": args.runs,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average_before": os.getloadavg(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    cases = {
        "features+prediction": lambda: detector.score_batch(reports, explain=False),
        "features+prediction, with reputation": lambda: detector.score_batch(reports, history, explain=False),
    }
    for name, fn in cases.items():
        cpu: list[float] = []
        times = timed(fn, args.runs, cpu)
        results[name] = {
            "median_s": statistics.median(times),
            "reports_per_s": args.batch / statistics.median(times),
            "best_reports_per_s": args.batch / min(times),
            "runs_s": times,
            # the machine is shared: CPU seconds show the cost whatever the neighbours do
            "median_cpu_s": statistics.median(cpu),
            "reports_per_cpu_s": args.batch / statistics.median(cpu),
        }
    n_explain = min(args.batch, 5000)
    times = timed(lambda: detector.score_batch(reports[:n_explain], history, explain=True), max(2, args.runs // 2))
    results["with explanations"] = {"n": n_explain, "median_s": statistics.median(times), "reports_per_s": n_explain / statistics.median(times)}

    for explain in (False, True):
        lat = sorted(t * 1000 for t in timed_each(detector, reports[: args.single], history, explain))
        results[f"single report, explain={explain}"] = {
            "p50_ms": lat[len(lat) // 2],
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "calls": len(lat),
        }
    results["load_average_after"] = os.getloadavg()

    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"scoring-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    for key, value in results.items():
        if isinstance(value, dict) and "reports_per_cpu_s" in value:
            print(
                f"{key:40} {value['reports_per_s']:>8,.0f} reports/s median, {value['best_reports_per_s']:>8,.0f} best, "
                f"{value['reports_per_cpu_s']:>8,.0f} per CPU-second"
            )
        elif isinstance(value, dict) and "reports_per_s" in value:
            print(f"{key:40} {value['reports_per_s']:>8,.0f} reports/s  (median {value['median_s']:.3f} s)")
        elif isinstance(value, dict) and "p50_ms" in value:
            print(f"{key:40} p50 {value['p50_ms']:.2f} ms   p99 {value['p99_ms']:.2f} ms")
    print(f"load average before/after: {results['load_average_before']} / {results['load_average_after']}")
    print(f"written: {path}")


def timed_each(detector: Detector, reports: list[dict], history: InMemoryReputation, explain: bool) -> list[float]:
    times = []
    for report in reports:
        start = time.perf_counter()
        detector.score_batch([report], history, explain=explain)
        times.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    main()
