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

from tierwatch.registry.vocab import QUESTIONS  # noqa: E402
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
# The codes as they were when this workload was defined (2026.1, before issue 14), so that the
# "legacy" filings stay the same filings across versions and figures compare.
DEPLOYMENT_CHANNELS = ("app", "web", "api", "mini_program", "device")
CAPABILITIES = ("text_generation", "image_generation", "voice_cloning", "video_deepfake", "recommendation",
                "decision_making", "biometric_identification", "emotion_recognition")
DOMAINS = ("finance", "healthcare", "education", "employment", "public_services", "media_news", "ecommerce",
           "social", "gaming", "government", "critical_infrastructure", "security_policing", "other")
AUDIENCES = ("minors", "elderly", "general", "business")
PERSONAL_INFO = ("sensitive", "biometric", "location", "health", "financial")
HUMAN_OVERSIGHT = ("none", "on_request", "human_in_loop")


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


# The "answered" workload: new filings answer the structured questions and write their own text.
# A unique sentence per filing (a quarter name a practice the rule files' signals know, some of
# them negated), so neither a filing's text nor its outcome can come from a cache.
PRACTICE_SENTENCES = [
    "对居民日常行为打分排名{n}号", "Live face matching at station {n}", "从互联网爬取人脸照片扩充第{n}库",
    "分析坐席人员的心情{n}", "一键换脸模板{n}", "信用评分模型第{n}版，也用于反欺诈", "签证申请分拣批次{n}",
    "本系统不进行社会评分（版本{n}）", "用于识别不良贷款{n}笔", "第{n}期新闻快讯自动撰写",
]
ORDINARY_SENTENCES = [
    "仓储路径第{n}条", "Customer chat assistant number {n}", "未来将支持第{n}种语言", "为商家生成第{n}款商品文案",
    "Summarises meeting {n} for the team", "第{n}号客服知识库问答", "按第{n}版规则推荐商品", "Route planning for depot {n}",
]
YES_NO_WEIGHTS = {"yes": 8, "no": 85, "unknown": 7}


def answered(apps: list[dict[str, Any]], seed: int = 11) -> list[dict[str, Any]]:
    """The legacy filings, 70 % answering most structured questions (mostly "no"; exemption
    claims rare, as in real filings), 21 % with written justifications, every one with a
    sentence of its own appended to its description. A speed workload, not a registry's mix."""
    r = random.Random(seed)
    out = []
    for i, app in enumerate(apps):
        app = dict(app)
        if r.random() < 0.7:
            answers: dict[str, Any] = {}
            for q in QUESTIONS.values():
                if r.random() < 0.8:
                    choices = list(q.choices or ())
                    if q.kind == "multi":
                        answers[q.code] = r.sample([c for c in choices if c != "none"], r.randint(0, 1)) or ["none"]
                    elif q.kind == "text":
                        answers[q.code] = r.choice(["", "网信算备440106000000000000001号"])
                    elif q.kind == "yesno":
                        answers[q.code] = r.choices(list(YES_NO_WEIGHTS), list(YES_NO_WEIGHTS.values()))[0]
                    else:
                        plain = [c for c in choices if c not in q.justify]
                        claims = sorted(q.justify)
                        answers[q.code] = r.choice(claims) if claims and r.random() < 0.05 else r.choice(plain)
            app["answers"] = answers
            if r.random() < 0.3:
                app["justifications"] = {c: f"这是一段足够长的书面理由，说明为何适用该项豁免，编号{i}。"
                                         for c, q in QUESTIONS.items() if q.justify and c in answers}
        sentences = PRACTICE_SENTENCES if r.random() < 0.25 else ORDINARY_SENTENCES
        app["description"] = (app.get("description") or "") + "。" + r.choice(sentences).format(n=i)
        out.append(app)
    return out


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
    """Activate both rule sets into a fresh migrated SQLite store holding the applications, twice:
    the first activation matches every text and stores the matches, the second (the same file
    again, as after an edit that left the synonym lists alone) reads them back."""
    import sqlalchemy as sa

    from tierwatch.bootstrap import build
    from tierwatch.core.migrate import upgrade
    from tierwatch.core.settings import load_settings
    from tierwatch.registry.models import Application, ApplicationVersion, Company
    from tierwatch.registry.service import iter_current_applications
    from tierwatch.risk import service

    def columns(app: dict[str, Any]) -> dict[str, Any]:
        row = {k: v for k, v in app.items() if k not in ("answers", "justifications")}
        return {**row, **(app.get("answers") or {}), "justifications": app.get("justifications")}

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        # The application's own container: activation writes the audit trail, which needs its key ring.
        container = build(load_settings(database_url=url, data_dir=Path(tmp), secret_key="b" * 32))
        with container.uow() as uow:
            company = Company(name="基准测试公司", credit_code=None, country="CN", source="bench")
            uow.session.add(company)
            uow.session.flush()
            uow.session.execute(sa.insert(Application), [
                {"id": i + 1, "company_id": company.id, "name": a["name"], "status": "submitted",
                 "source": "bench"} for i, a in enumerate(apps)])
            uow.session.execute(sa.insert(ApplicationVersion), [
                {"id": i + 1, "application_id": i + 1, "number": 1, "status": "submitted", **columns(a)}
                for i, a in enumerate(apps)])
            uow.commit()
        out: dict[str, Any] = {}
        for name, path in RULE_FILES.items():
            for run in ("first", "again"):
                def activate() -> Any:
                    with container.uow() as uow:
                        report = service.activate_ruleset(uow, path, "bench", iter_current_applications(uow))
                        uow.commit()
                        return report

                wall, cpu, report = timed(activate)
                out[f"{name}/{run}"] = {"apps_per_s_wall": len(apps) / wall, "apps_per_s_cpu": len(apps) / cpu,
                                        "assessed": report.assessed, "seconds": wall}
        container.close()
        return out


# --- A/B: today's engine against this tree, same filings, alternating ------------------------

# Run in a child process per (tree, workload): the tree's engine and rule files assess every
# filing 3 times per rule set, each time freshly compiled (as an activation does: no cache
# carried over), after a warm-up (imports, jieba's dictionary). For this tree, `stored` also
# runs the answered workload with each filing's text matches attached as the service reads them
# from text_matches when the rule set's signals did not change (matched beforehand, untimed).
AB_CHILD = """
import json, pickle, statistics, sys, time
if sys.argv[2]:
    sys.path.insert(0, sys.argv[2])  # the other tree, as the `tierwatch` package
from tierwatch.risk.engine import load_and_compile
from tierwatch.risk.loader import BUNDLED_RULES
apps = pickle.load(open(sys.argv[1], 'rb'))
pairs = list(enumerate(apps))
out = {'engine': load_and_compile.__module__, 'file': sys.modules['tierwatch.risk.engine'].__file__}
for name, fname in (('cn-gd', 'cn-gd.yaml'), ('eu', 'eu-ai-act.yaml')):
    path = BUNDLED_RULES / fname
    load_and_compile(path).assess_many(pairs[:2000])
    if sys.argv[3] == 'stored':
        matcher = load_and_compile(path)
        run_pairs = [(i, matcher.with_text_signals(app)) for i, app in pairs]
    else:
        run_pairs = pairs
    walls, cpus = [], []
    for _ in range(3):
        c = load_and_compile(path)
        w, p = time.perf_counter(), time.process_time()
        results = c.assess_many(run_pairs)
        walls.append(len(apps) / (time.perf_counter() - w)); cpus.append(len(apps) / (time.process_time() - p))
        tiers = {}
        for _i, a in results:
            tiers[a.tier] = tiers.get(a.tier, 0) + 1
        del results
    out[name] = {'wall': statistics.median(walls), 'cpu': statistics.median(cpus), 'tiers': tiers,
                 'conditions': len(getattr(c, 'checks', c.rules))}
print(json.dumps(out))
"""


def _today_package(rev: str, tmp: Path) -> Path:
    """REV's tree, importable as the `tierwatch` package from the returned folder."""
    import subprocess
    import tarfile

    src = tmp / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(src, filter="data")
    package = tmp / "pkg" / "tierwatch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name in ("core", "registry", "risk", "rules"):
        (package / name).symlink_to(src / name)
    return package.parent


def compare(rev: str, count: int, rounds: int) -> dict[str, Any]:
    """Alternate REV's engine and this tree's on the legacy and the answered workloads."""
    import pickle
    import subprocess

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        other = _today_package(rev, tmp)
        legacy = generate(count)
        data = {"legacy": tmp / "legacy.pickle", "answered": tmp / "answered.pickle"}
        data["legacy"].write_bytes(pickle.dumps(legacy))
        data["answered"].write_bytes(pickle.dumps(answered(legacy)))
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        plan = [("legacy", "today", ""), ("legacy", "now", ""), ("answered", "today", ""),
                ("answered", "now", ""), ("answered", "now", "stored")]
        for round_ in range(rounds):
            for workload, tree, mode in plan:
                child = subprocess.run(
                    [sys.executable, "-c", AB_CHILD, str(data[workload]), str(other) if tree == "today" else "",
                     mode], check=True, capture_output=True, text=True, cwd=tmp)
                figures = json.loads(child.stdout.strip().splitlines()[-1])
                expected = str(other) if tree == "today" else str(REPO)
                assert figures["file"].startswith(expected), figures["file"]  # the right tree ran
                runs.setdefault((workload, tree + (f"+{mode}" if mode else "")), []).append(figures)
            print(f"  round {round_ + 1}/{rounds} done", file=sys.stderr)
    out: dict[str, Any] = {}
    for (workload, tree), figures in runs.items():
        for ruleset in ("cn-gd", "eu"):
            out.setdefault(f"{workload}/{ruleset}", {})[tree] = {
                "wall": statistics.median(f[ruleset]["wall"] for f in figures),
                "cpu": statistics.median(f[ruleset]["cpu"] for f in figures),
                "cpu_runs": [f[ruleset]["cpu"] for f in figures],
                "tiers": figures[-1][ruleset]["tiers"], "conditions": figures[-1][ruleset]["conditions"]}
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
    parser.add_argument("--answered", action="store_true", help="the answered workload instead of the legacy one")
    parser.add_argument("--libraries", action="store_true", help="compare the PyPI CEL libraries")
    parser.add_argument("--compare", metavar="REV", help="A/B against the engine and rule files of git REV "
                        "(e.g. 0502156, before issue 14), alternating, same filings")
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: rounds of alternating runs")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    if args.compare:
        load = os.getloadavg()[0]
        print(f"A/B {args.compare} (today) vs this tree (now): {args.apps:,} filings, {args.rounds} rounds, "
              f"3 runs per rule set per round, load average {load:.1f} at the start on {os.cpu_count()} CPUs")
        ab = compare(args.compare, args.apps, args.rounds)
        for key, trees in ab.items():
            today = trees["today"]
            for tree, f in trees.items():
                ratio = "" if tree == "today" else f"  now/today {f['cpu'] / today['cpu']:.2f} cpu, {f['wall'] / today['wall']:.2f} wall"
                print(f"{key:15} {tree:13} {f['cpu']:>9,.0f}/s cpu {f['wall']:>9,.0f}/s wall "
                      f"({f['conditions']} conditions){ratio}")
                print(f"{'':29} tiers {f['tiers']}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"compare": args.compare, "apps": args.apps, "rounds": args.rounds,
                                             "load_average": load, "results": ab}, indent=2), encoding="utf-8")
        return 0

    apps = answered(generate(args.apps)) if args.answered else generate(args.apps)
    load = os.getloadavg()[0]
    print(f"{args.apps:,} {'answered' if args.answered else 'legacy'} applications, {args.runs} runs per rule set, "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
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
            print(f"store  {name:12} activate_ruleset into SQLite (read, assess, insert, commit): "
                  f"{s['apps_per_s_wall']:,.0f} apps/s wall, {s['apps_per_s_cpu']:,.0f} apps/s cpu ({s['seconds']:.1f} s)")
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
