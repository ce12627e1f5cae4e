"""Check an uploaded rule file in a child process with a time and a memory budget.

The loader and the compiler already bound what a rule file may ask for (risk.loader MAX_*,
risk.engine MAX_*), and they refuse the known bombs in milliseconds. This is the second line,
for whatever those bounds missed: the file is parsed, compiled and run over sample applications
in a child process limited in address space and wall time, so a bad upload costs the server
neither memory nor a thread; only a file that passes here is loaded by the server itself.

Child protocol: ``python -m tierwatch.risk.sandbox`` reads {"text", "filename"} as JSON on stdin
and writes {"errors": [...], "ms_per_application": float} on stdout.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from tierwatch.risk.ruleset import ApplicationDataError, RuleFileError, RuleRuntimeError, RuleSetInvalid

SECONDS = 10.0
MEMORY_BYTES = 768 * 1024 * 1024
# Today's rule sets take ~0.04 ms per application; a file 100x slower would make re-tiering
# 20,000 applications take a minute instead of a second.
MAX_MS_PER_APPLICATION = 5.0
SAMPLE_APPLICATIONS = 64


@dataclass(frozen=True)
class Budget:
    seconds: float = SECONDS
    memory_bytes: int = MEMORY_BYTES
    max_ms_per_application: float = MAX_MS_PER_APPLICATION


def check(text: str, filename: str, budget: Budget = Budget()) -> None:
    """Raise RuleSetInvalid (with line numbers where known) unless the file loads, compiles and
    assesses sample applications within the budget."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tierwatch.risk.sandbox", str(budget.memory_bytes)],
            input=json.dumps({"text": text, "filename": filename}).encode(),
            capture_output=True, timeout=budget.seconds, check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuleSetInvalid([RuleFileError(filename, None, None,
                                            f"checking this file took longer than {budget.seconds:.0f} s")]) from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        # Killed by the memory limit (or another crash) before it could answer.
        raise RuleSetInvalid([RuleFileError(filename, None, None,
                                            f"checking this file needed more than {budget.memory_bytes >> 20} MB")]) from None
    if answer["errors"]:
        raise RuleSetInvalid([RuleFileError(**e) for e in answer["errors"]])
    if answer["ms_per_application"] > budget.max_ms_per_application:
        raise RuleSetInvalid([RuleFileError(filename, None, None, (
            f"too slow: {answer['ms_per_application']:.1f} ms per application "
            f"(at most {budget.max_ms_per_application} ms)"))])


def sample_applications(count: int = SAMPLE_APPLICATIONS, seed: int = 7) -> list[dict[str, Any]]:
    """Filings with every field set to codes of its vocabulary, and most structured questions
    answered (exemption claims with a written reason among them), to time a rule set on: text
    signals, exemptions and review checks all run, as they do on real filings."""
    from tierwatch.registry.vocab import FILING_FIELDS, QUESTIONS

    r = random.Random(seed)  # nosec B311 # sample filings to time a rule set on, reproducible by seed; not security
    apps = []
    for i in range(count):
        app: dict[str, Any] = {}
        for name, (kind, vocab) in FILING_FIELDS.items():
            codes = list(vocab or ())
            if kind == "enum":
                app[name] = r.choice(codes)
            elif kind == "set":
                app[name] = r.sample(codes, r.randint(0, min(3, len(codes))))
            elif kind == "int":
                app[name] = r.choice([10, 50_000, 2_000_000, 80_000_000])
            elif kind == "bool":
                app[name] = r.random() < 0.5
            elif kind == "list":
                app[name] = [{"name": "模型", "filing_number": ""}] if name == "models" else []
            else:
                app[name] = (f"应用{i} 生成式人工智能 实时人脸识别 社会评分 live face matching of visitors"
                             if name != "version" else "1.0")
        answers: dict[str, Any] = {}
        for q in QUESTIONS.values():
            if r.random() < 0.25:
                continue  # unanswered: the review checks look for these
            choices = list(q.choices or ())
            if q.kind == "multi":
                answers[q.code] = r.sample(choices, r.randint(1, 2))
            elif q.kind == "text":
                answers[q.code] = f"网信算备44010600000{i:04d}号"
            else:
                answers[q.code] = r.choice(choices)
        app["answers"] = answers
        app["justifications"] = {q.code: "样本理由：仅用于计时，说明为何适用该项豁免的书面理由。"
                                 for q in QUESTIONS.values() if q.justify}
        apps.append(app)
    return apps


def _child(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    request = json.loads(sys.stdin.buffer.read())
    errors: list[dict[str, Any]] = []
    ms = 0.0
    try:
        from tierwatch.risk.engine import load_and_compile

        compiled = load_and_compile(request["text"], request["filename"])
        apps = sample_applications()
        started = time.perf_counter()
        for i, app in enumerate(apps):
            try:
                compiled.assess(app, f"sample-{i}")
            except (RuleRuntimeError, ApplicationDataError):
                pass  # judged on real filings (simulate, activate); here only the cost counts
        ms = (time.perf_counter() - started) * 1000 / len(apps)
    except RuleSetInvalid as exc:
        errors = [{"file": e.file, "line": e.line, "rule_id": e.rule_id, "message": e.message} for e in exc.errors]
    except MemoryError:
        errors = [{"file": request["filename"], "line": None, "rule_id": None,
                   "message": f"checking this file needed more than {memory_bytes >> 20} MB"}]
    except RecursionError:
        errors = [{"file": request["filename"], "line": None, "rule_id": None, "message": "nested too deeply"}]
    sys.stdout.write(json.dumps({"errors": errors, "ms_per_application": ms}))


if __name__ == "__main__":
    _child(int(sys.argv[1]))
