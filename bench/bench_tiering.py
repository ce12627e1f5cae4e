"""Re-tier 100,000 generated applications under each shipped rule set; compare with the naive path.

    python bench/bench_tiering.py                      # 100,000 apps, 5 runs per rule set
    python bench/bench_tiering.py --store              # also activate into a fresh SQLite store
    python bench/bench_tiering.py --libraries          # the CEL library comparison in risk/README.md

Each run builds the full explanation of every application in memory (tier, score, fired rules
with reasons, legal basis and evidence, obligations). The naive baseline has the library
interpret every rule for every application, with the same explanations, on a sample (it is ~20x
slower), measured in the same process; its rate is per application, so no scaling is needed.
Throughput is reported per wall-clock second and per CPU second: on a shared machine the CPU
figure is the stable one. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tierwatch.registry.vocab import AUDIENCES, CAPABILITIES, DEPLOYMENT_CHANNELS, DOMAINS, HUMAN_OVERSIGHT, PERSONAL_INFO  # noqa: E402
from tierwatch.risk.engine import CompiledRuleSet, load_and_compile  # noqa: E402

RULE_FILES = {"cn-gd": REPO / "rules" / "cn-gd.yaml", "eu": REPO / "rules" / "eu-ai-act.yaml"}
TARGET = 20_000
SCENARIOS = [
    "在线客服", "电商平台智能客服", "短视频一键换脸", "克隆亲人声音朗读祝福", "自动筛选简历并给候选人打分",
    "根据还款数据评定信用分", "新闻资讯个性化推荐与热榜", "小学生作业辅导", "员工情绪监测",
    "整合居民社会行为生成社会信用评分", "公共场所实时人脸识别布控", "基于个人画像预测犯罪风险",
    "肺结节CT影像辅助诊断", "招生录取评分", "商品海报生成", "仓储路径优化", "游戏内NPC对话",
    "电网负荷智能调度", "选举期间定向推送政治信息", "银行交易反欺诈检测 fraud detection",
    "AI novel writing", "customer service chatbot", "emergency triage", "visa application screening",
    "court document drafting", "刷脸登录身份核验", "跨境会议实时翻译", "",
]
MODELS = [{"name": "混元", "filing_number": "Guangdong-HunYuan-20230831"},
          {"name": "文心一言", "filing_number": "Beijing-WenXin-20230831"},
          {"name": "自研模型", "filing_number": None}, {"name": "open-source", "filing_number": ""}]
CAPABILITY_WEIGHTS = {"text_generation": 30, "recommendation": 12, "image_generation": 8,
                      "decision_making": 6, "voice_cloning": 3, "video_deepfake": 3}
DOMAIN_WEIGHTS = {"ecommerce": 6, "other": 6, "education": 4, "media_news": 4, "social": 4, "finance": 3,
                  "healthcare": 3, "gaming": 3, "public_services": 2, "government": 2}
REGIONS = ["广东省", "广西壮族自治区", "湖南省", "福建省", "江西省", "海南省", "香港", "澳门", "EU", "US"]


def generate(count: int, seed: int = 2026) -> list[dict[str, Any]]:
    """Varied filings: every vocabulary code in use (text generation and recommendation most
    often, as in the CAC filing lists), sizes from a handful of users to 50 million, scenarios
    that trigger keyword rules, and some fields left unset."""
    r = random.Random(seed)
    caps, doms, auds, pis = list(CAPABILITIES), list(DOMAINS), list(AUDIENCES), list(PERSONAL_INFO)
    cap_weights = [CAPABILITY_WEIGHTS.get(c, 1) for c in caps]
    dom_weights = [DOMAIN_WEIGHTS.get(d, 1) for d in doms]
    aud_weights = [{"general": 6, "business": 4}.get(a, 1) for a in auds]

    def pick(codes: list[str], weights: list[int], k: int) -> list[str]:
        return list(dict.fromkeys(r.choices(codes, weights, k=k)))

    def unset(value: Any, p: float = 0.05) -> Any:
        return None if r.random() < p else value

    apps = []
    for i in range(count):
        scenario = r.choice(SCENARIOS)
        apps.append({
            "name": f"应用{i}", "version": r.choice(["1.0", "2.1", "3"]),
            "description": r.choice(["", scenario, "面向公众提供服务"]), "scenario": scenario,
            "deployment_channels": r.sample(list(DEPLOYMENT_CHANNELS), r.randint(1, 3)),
            "models": [r.choices(MODELS, [6, 6, 1, 1])[0]],
            "capabilities": pick(caps, cap_weights, r.choices([1, 2, 3], [6, 3, 1])[0]),
            "domain": unset(r.choices(doms, dom_weights)[0]),
            "monthly_active_users": unset(int(10 ** r.uniform(1, 7.7)), 0.1),
            "regions": r.sample(REGIONS, r.choices([1, 2, 3, 6], [6, 2, 1, 1])[0]),
            "audiences": pick(auds, aud_weights, r.choices([1, 2], [3, 1])[0]),
            "personal_info": r.sample(pis, r.choices([0, 1, 2, 3], [6, 3, 1, 1])[0]),
            "cross_border_transfer": unset(r.random() < 0.1),
            "public_opinion_attributes": unset(r.random() < 0.15),
            "human_oversight": unset(r.choice(list(HUMAN_OVERSIGHT))),
            "content_labelling": unset(r.random() < 0.9),
            "security_assessment_done": unset(r.random() < 0.6),
        })
    return apps


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def bench_ruleset(name: str, compiled: CompiledRuleSet, apps: list[dict[str, Any]], runs: int,
                  sample: int) -> dict[str, Any]:
    pairs = list(enumerate(apps))
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, results = timed(lambda: compiled.assess_many(pairs))
        assert len(results) == len(apps) and all(a.obligations for _i, a in results)
        walls.append(len(apps) / wall)
        cpus.append(len(apps) / cpu)
        fired = sum(len(a.fired) for _i, a in results)
        tiers: dict[str, int] = {}
        for _i, a in results:
            tiers[a.tier] = tiers.get(a.tier, 0) + 1
        del results
    subset = pairs[:sample]
    wall, cpu, naive = timed(lambda: [compiled.assess_with_library(app, i) for i, app in subset])
    fast = dict(compiled.assess_many(subset))
    assert all(fast[i].fired_ids == a.fired_ids and fast[i].tier == a.tier for (i, _), a in zip(subset, naive))
    return {
        "rules": len(compiled.rules), "translated": compiled.translated, "apps": len(apps), "runs": runs,
        "apps_per_s_wall": walls, "apps_per_s_cpu": cpus,
        "median_wall": statistics.median(walls), "median_cpu": statistics.median(cpus),
        "naive_sample": len(subset), "naive_wall": len(subset) / wall, "naive_cpu": len(subset) / cpu,
        "fired_rules_per_app": fired / len(apps), "tiers": tiers,
    }


def bench_store(apps: list[dict[str, Any]]) -> dict[str, Any]:
    """Activate both rule sets into a fresh migrated SQLite store holding the applications."""
    import sqlalchemy as sa

    from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
    from tierwatch.core.migrate import upgrade
    from tierwatch.registry.models import Application, ApplicationVersion, Company
    from tierwatch.risk import service

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with UnitOfWork(factory) as uow:
            company = Company(name="基准测试公司", credit_code=None, country="CN", source="bench")
            uow.session.add(company)
            uow.session.flush()
            uow.session.execute(sa.insert(Application), [
                {"id": i + 1, "company_id": company.id, "name": a["name"], "status": "submitted",
                 "source": "bench"} for i, a in enumerate(apps)])
            uow.session.execute(sa.insert(ApplicationVersion), [
                {"id": i + 1, "application_id": i + 1, "number": 1, "status": "submitted", **a}
                for i, a in enumerate(apps)])
            uow.commit()
        out = {}
        for name, path in RULE_FILES.items():
            triples = [(i + 1, i + 1, a) for i, a in enumerate(apps)]

            def activate() -> Any:
                with UnitOfWork(factory) as uow:
                    report = service.activate_ruleset(uow, path, "bench", triples)
                    uow.commit()
                    return report

            wall, cpu, report = timed(activate)
            out[name] = {"apps_per_s_wall": len(apps) / wall, "apps_per_s_cpu": len(apps) / cpu,
                         "assessed": report.assessed, "seconds": wall}
        engine.dispose()
        return out


# CEL-spec behaviour our rules rely on or could: (condition, data, expected; "ERR" = an error).
SPEC_CASES: list[tuple[str, dict[str, Any], Any]] = [
    ('"video_deepfake" in capabilities', {"capabilities": ["video_deepfake"]}, True),
    ('capabilities.exists(c, c in ["a", "b"])', {"capabilities": ["x", "b"]}, True),
    ('capabilities.all(c, c in ["a"])', {"capabilities": []}, True),
    ("size(capabilities) >= 2", {"capabilities": ["a", "b"]}, True),
    ('size("你好") == 2', {}, True),  # code points, not UTF-8 bytes
    ('"人脸识别系统".contains("人脸")', {}, True),
    ('monthly_active_users >= 1000000 && domain == "finance"',
     {"monthly_active_users": 2000000, "domain": "finance"}, True),
    ("(1 / 0 == 1) && false", {}, False),  # errors absorbed by && and ||, either side
    ("false && (1 / 0 == 1)", {}, False),
    ("(1 / 0 == 1) || true", {}, True),
    ("-7 / 2 == -3", {}, True),
    ("-7 % 2 == -1", {}, True),
    ("9223372036854775807 + 1 > 0", {}, "ERR"),
    ('regions[0] == "CN-44"', {"regions": []}, "ERR"),
    ("int(scenario) > 3", {"scenario": "智能客服"}, "ERR"),
    ('models.exists(m, m.filing_number == "")', {"models": [{"name": "x", "filing_number": ""}]}, True),
    ('domain in ["finance", "healthcare"]', {"domain": "healthcare"}, True),
    ('"abc" < "abd"', {}, True),
    ("[1, 2] + [3] == [1, 2, 3]", {}, True),
    ("dyn(1) == dyn(1u)", {}, True),  # heterogeneous numeric equality
    ("2 in [1, 2.0]", {}, True),
    ('"ab".matches("^a")', {}, True),
    ("dyn(monthly_active_users) != null", {"monthly_active_users": 5}, True),
    ('domain == "finance" ? monthly_active_users > 10 : false',
     {"domain": "finance", "monthly_active_users": 11}, True),
]


def _library_runners() -> dict[str, Callable[[str], Callable[[dict[str, Any]], Any]]]:
    from cel_expr_python import cel as google_cel

    from tierwatch.risk.appdata import FIELD_TYPES

    env = google_cel.NewEnv(variables=FIELD_TYPES)

    def google(src: str) -> Callable[[dict[str, Any]], Any]:
        program = env.compile(src)

        def run(data: dict[str, Any]) -> Any:
            value = program.eval(data=data)
            if value.type() == google_cel.Type.ERROR:
                raise RuntimeError(value.value())
            return value.value()
        return run

    runners: dict[str, Callable[[str], Callable[[dict[str, Any]], Any]]] = {"cel-expr-python": google}
    try:
        import cel  # common-expression-language (Rust)

        runners["common-expression-language"] = lambda src: cel.compile(src).execute
    except ImportError:
        pass
    try:
        import celpy  # cel-python (pure Python)

        penv = celpy.Environment()

        def celpy_runner(src: str) -> Callable[[dict[str, Any]], Any]:
            program = penv.program(penv.compile(src))
            def run(data: dict[str, Any]) -> Any:
                value = program.evaluate(celpy.json_to_cel(data))  # type: ignore[arg-type]
                return bool(value) if isinstance(value, celpy.celtypes.BoolType) else value
            return run
        runners["cel-python"] = celpy_runner
    except ImportError:
        pass
    return runners


def compare_libraries(apps: list[dict[str, Any]], sample: int) -> dict[str, Any]:
    """The PyPI CEL implementations: CEL-spec cases, agreement with cel-expr-python on our
    shipped conditions, and speed (the library's own evaluation, per rule per application)."""
    from tierwatch.risk.appdata import normalize_application

    compiled = [load_and_compile(p) for p in RULE_FILES.values()]
    values = [normalize_application(a) for a in apps[:sample]]
    out: dict[str, Any] = {}
    for lib, make in _library_runners().items():
        spec_ok, spec_failures = 0, []
        for src, data, expected in SPEC_CASES:
            try:
                run = make(src)
            except Exception:
                got: Any = "CHECK"  # refused when compiling (type-checked)
            else:
                try:
                    got = run(data)
                except Exception:
                    got = "ERR"
            if got == expected and type(got) is type(expected):
                spec_ok += 1
            else:
                spec_failures.append(f"{src} -> {got!r}")
        agree = total = 0
        cpu = 0.0
        for c in compiled:
            for rule in c.rules:
                run = make(rule.rule.condition)
                start = time.process_time()
                answers: list[bool | None] = []
                for v in values:
                    try:
                        answers.append(bool(run(v)))
                    except Exception:
                        answers.append(None)
                cpu += time.process_time() - start
                agree += sum(a == bool(rule.program.eval(data=v).value()) for a, v in zip(answers, values))
                total += len(values)
        out[lib] = {"spec_cases_passed": spec_ok, "spec_cases": len(SPEC_CASES),
                    "spec_failures": spec_failures, "agreement_on_shipped_rules": agree / total,
                    "evaluations_per_cpu_s": total / cpu}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-sample", type=int, default=5_000)
    parser.add_argument("--store", action="store_true", help="also activate into a SQLite store")
    parser.add_argument("--libraries", action="store_true", help="compare the PyPI CEL libraries")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    apps = generate(args.apps)
    load = os.getloadavg()[0]
    print(f"{args.apps:,} applications, {args.runs} runs per rule set, load average {load:.1f} "
          f"on {os.cpu_count()} CPUs")
    results: dict[str, Any] = {"apps": args.apps, "load_average": load, "rule_sets": {}}
    ok = True
    for name, path in RULE_FILES.items():
        r = bench_ruleset(name, load_and_compile(path), apps, args.runs, args.baseline_sample)
        results["rule_sets"][name] = r
        passed = r["median_wall"] >= TARGET
        ok = ok and (passed or r["median_cpu"] >= TARGET)
        print(f"{name:6} {r['rules']} rules ({r['translated']} on the fast path), "
              f"{r['fired_rules_per_app']:.1f} fired per app, tiers {r['tiers']}")
        print(f"       fast path: {r['median_wall']:>9,.0f} apps/s wall  {r['median_cpu']:>9,.0f} apps/s cpu "
              f"(median of {args.runs}: {', '.join(f'{x:,.0f}' for x in r['apps_per_s_wall'])})")
        print(f"       naive:     {r['naive_wall']:>9,.0f} apps/s wall  {r['naive_cpu']:>9,.0f} apps/s cpu "
              f"(library interprets every rule; {r['naive_sample']:,}-app sample, same explanations)")
        print(f"       speed-up {r['median_cpu'] / r['naive_cpu']:.0f}x; target {TARGET:,} apps/s: "
              f"{'met' if passed else 'MISSED on wall clock'}")
    if args.store:
        results["store"] = bench_store(apps)
        for name, s in results["store"].items():
            print(f"store  {name:6} activate_ruleset into SQLite (assess + insert + commit): "
                  f"{s['apps_per_s_wall']:,.0f} apps/s wall ({s['seconds']:.1f} s)")
    if args.libraries:
        results["libraries"] = compare_libraries(apps, min(args.baseline_sample, 300))
        for lib, s in results["libraries"].items():
            print(f"lib    {lib:27} CEL-spec cases {s['spec_cases_passed']}/{s['spec_cases']}, "
                  f"agrees on shipped rules {s['agreement_on_shipped_rules']:.2%}, "
                  f"{s['evaluations_per_cpu_s']:,.0f} evaluations per CPU second")
            for failure in s["spec_failures"]:
                print(f"         wrong: {failure}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
