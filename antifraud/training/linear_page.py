"""The linear detector's evaluation page: served-path figures with the baseline beside them, the
false-positive rate per kind of legitimate text, flips, types and the reliability diagram."""

from __future__ import annotations

import html
import json
from pathlib import Path

from tierwatch.antifraud.training.report_page import _plain, _save, _table

MODELS = ("linear", "baseline")


def write_linear_evaluation(folder: Path, doc: dict) -> Path:
    """evaluation.json, reliability.png and index.html under ``folder/evaluation``."""
    out = folder / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=_plain), encoding="utf-8")
    chart = _reliability_chart(out, doc)
    page = out / "index.html"
    page.write_text(_page(doc, chart), encoding="utf-8")
    return page


def _reliability_chart(out: Path, doc: dict) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", label="perfect")
    for name in MODELS:
        bins = doc["reliability"][name]["bins"]
        ax.plot([b["mean_predicted"] for b in bins], [b["observed"] for b in bins], marker="o", label=name)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed share of scams")
    ax.set_title("reliability (served path, test split)")
    ax.legend()
    return _save(fig, out / "reliability.png", "可靠性图 / reliability diagram: predicted vs observed, 10 equal-width bins")


def _page(doc: dict, chart: tuple[str, str]) -> str:
    parts = [f"<h1>检测模型评估（服务路径）/ Detector evaluation on the served path — {html.escape(str(doc.get('version', '')))}</h1>",
             "<p>Test texts wrapped as intake report bodies (varied channels, times, reporter types, identifiers) and "
             "scored through the worker's own path (schema → prepare → scorer).</p>"]
    s = doc["served_path"]
    keys = ["n", "scams", "pr_auc", "roc_auc", "pr_auc_scams_vs_real_sms", "recall", "precision", "false_positive_rate", "threshold"]
    rows = [[k] + [s[m].get(k) for m in MODELS] for k in keys]
    r = doc["reliability"]
    rows += [[k] + [r[m][k] for m in MODELS] for k in ("ece", "top_decile_ece", "distinct_scores", "brier")]
    rows += [[f"{f} flip rate"] + [doc["flips"][m][f]["rate"] for m in MODELS] for f in ("channel", "reporter_type")]
    rows += [["scam-type macro-F1 (most probable type; threshold-free)"] + [doc["scam_type"][m].get("macro_f1_argmax") for m in MODELS]]
    rows += [["scam-type macro-F1 (served type; other counts wrong)"] + [doc["scam_type"][m]["macro_f1"] for m in MODELS]]
    rows += [["known-type scams named other"] + [doc["scam_type"][m].get("named_other") for m in MODELS]]
    parts.append("<h2>服务路径指标 / Served-path figures (linear | baseline)</h2>" + _table(["measure", "linear", "baseline TF-IDF+LR"], rows))
    fl, fb = doc["fpr_by_kind"]["linear"], doc["fpr_by_kind"]["baseline"]
    parts.append("<h2>各类正常文本误报率 / False-positive rate per kind of legitimate text</h2>")
    parts.append(_table(["kind", "n", "linear FPR", "baseline FPR"], [[k, v["n"], v["rate"], fb[k]["rate"]] for k, v in fl.items()]))
    if doc.get("external"):
        el, eb = doc["external"]["linear"], doc["external"]["baseline"]
        parts.append("<h2>未训练的真实诈骗短信 / Real CMCC fraud SMS never trained on: flag rate</h2>")
        parts.append(_table(["subtype", "n", "linear", "baseline"], [[k, v["n"], v["rate"], eb[k]["rate"]] for k, v in el.items()]))
    if doc.get("leave_one_type_out"):
        lo = doc["leave_one_type_out"]
        parts.append("<h2>留一类型 / Leave one type out (served path; type removed from training and validation)</h2>")
        rows = [[t, v["n"], v["recall"], lo["baseline"][t]["recall"], v["roc_auc_vs_real_sms"], lo["baseline"][t]["roc_auc_vs_real_sms"],
                 v.get("pr_auc_vs_real_sms"), lo["baseline"][t].get("pr_auc_vs_real_sms"), v["named_other"]] for t, v in lo["linear"].items()]
        parts.append(_table(["held-out type", "n", "recall", "baseline", "ROC-AUC vs real SMS", "baseline", "PR-AUC vs real SMS", "baseline",
                             "named other"], rows))
    parts.append("<h2>可靠性 / Reliability bins (linear)</h2>")
    parts.append(_table(["bin", "n", "mean predicted", "observed"], [[b["bin"], b["n"], b["mean_predicted"], b["observed"]] for b in r["linear"]["bins"]]))
    name, caption = chart
    parts.append(f'<figure><img src="{name}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    if doc.get("configuration"):
        parts.append("<h2>模型配置 / Configuration (chosen on the validation split; see antifraud/README.md)</h2>")
        parts.append(f"<pre>{html.escape(json.dumps(doc['configuration'], ensure_ascii=False, indent=1))}</pre>")
    parts.append(f"<h2>数据 / Data</h2><pre>{html.escape(json.dumps(doc['data'], ensure_ascii=False, indent=1))}</pre>")
    style = "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}pre{background:#f6f6f6;padding:8px}"
    return f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Detector evaluation</title><style>{style}</style></head><body>{"".join(parts)}</body></html>'
