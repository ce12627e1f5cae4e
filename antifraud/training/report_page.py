"""Write an evaluation as JSON plus a static HTML page with PNG charts (matplotlib, Agg)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np


def write_evaluation(folder: Path, doc: dict, curves: dict) -> Path:
    """evaluation.json, index.html and charts under ``folder/evaluation``; returns the page path."""
    out = folder / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=_plain), encoding="utf-8")
    charts = _charts(out, doc, curves)
    page = out / "index.html"
    page.write_text(_page(doc, charts), encoding="utf-8")
    return page


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _charts(out: Path, doc: dict, curves: dict) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    made = []
    tel, where = curves.get("telecom", {}), "telecom_fraud_texts_5 test"
    if not (len(tel.get("y", [])) and 0 < tel["y"].sum() < len(tel["y"])):
        tel, where = curves.get("all", {}), "all test"
    if len(tel.get("y", [])) and 0 < tel["y"].sum() < len(tel["y"]):
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        for name in ("xgboost", "baseline"):
            prec, rec, _ = precision_recall_curve(tel["y"], tel[name])
            a.plot(rec, prec, label=name)
            fpr, tpr, _ = roc_curve(tel["y"], tel[name])
            b.plot(fpr, tpr, label=name)
        a.set(xlabel="recall", ylabel="precision", title=f"PR, {where}", ylim=(0.5, 1.005))
        b.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xscale="log")
        a.legend(), b.legend()
        made.append(_save(fig, out / "pr_roc.png", f"PR and ROC curves ({where})"))
    cal = doc["scam"]["xgboost"]["all_test"].get("calibration", {}).get("bins", [])
    if cal:
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot([0, 1], [0, 1], "--", color="grey")
        ax.plot([r["mean_predicted"] for r in cal], [r["observed"] for r in cal], "o-")
        ax.set(xlabel="predicted probability", ylabel="observed scam rate", title="Calibration (all test)")
        made.append(_save(fig, out / "calibration.png", "Reliability diagram"))
    cm = doc["scam_type"]["xgboost"]["telecom_fraud_texts_5"]
    if not cm.get("confusion_matrix"):
        cm = doc["scam_type"]["xgboost"]["all_test"]
    if cm.get("confusion_matrix"):
        fig, ax = plt.subplots(figsize=(6, 5))
        m = np.array(cm["confusion_matrix"])
        ax.imshow(m, cmap="Blues")
        ax.set_xticks(range(len(cm["classes"])), cm["classes"], rotation=30, ha="right")
        ax.set_yticks(range(len(cm["classes"])), cm["classes"])
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, str(v), ha="center", va="center")
        ax.set(xlabel="predicted", ylabel="true", title="Scam type (test)")
        made.append(_save(fig, out / "confusion_type.png", "Scam-type confusion matrix"))
    ln = curves.get("length")
    if ln is not None and len(ln["y"]):
        fig, ax = plt.subplots(figsize=(7, 4))
        for cls, colour, label in ((0, "tab:blue", "benign"), (1, "tab:red", "scam")):
            m = ln["y"] == cls
            ax.scatter(ln["length"][m], ln["xgboost"][m], s=4, alpha=0.4, c=colour, label=label)
        ax.axhline(ln["threshold"], color="black", lw=1, label="operating threshold")
        ax.set(xscale="log", xlabel="text length (characters)", ylabel="scam probability", title="Score vs length (test)")
        ax.legend()
        made.append(_save(fig, out / "length.png", "Score against text length"))
    return made


def _save(fig: object, path: Path, caption: str) -> tuple[str, str]:
    fig.tight_layout()  # type: ignore[attr-defined]
    fig.savefig(path, dpi=90)  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(fig)  # type: ignore[arg-type]
    return path.name, caption


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return "—" if v is None else html.escape(str(v))


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(doc: dict, charts: list[tuple[str, str]]) -> str:
    parts = [f"<h1>检测模型评估 / Detector evaluation — {html.escape(str(doc.get('version', '')))}</h1>"]
    parts.append("<h2>目标 / Targets</h2>")
    parts.append(_table(["target", "value", "met"], [[k, v["value"], "yes" if v["met"] else "NO"] for k, v in doc["targets"].items()]))
    parts.append("<h2>诈骗识别 / Scam vs not (XGBoost | TF-IDF+LR baseline)</h2>")
    rows = []
    for source in doc["scam"]["xgboost"]:
        x, b = doc["scam"]["xgboost"][source], doc["scam"]["baseline"][source]
        rows.append([source, x["n"], x.get("pr_auc"), b.get("pr_auc"), x.get("roc_auc"), b.get("roc_auc"),
                     x.get("precision"), b.get("precision"), x.get("recall"), b.get("recall"),
                     x.get("false_positive_rate"), b.get("false_positive_rate")])
    parts.append(_table(["split", "n", "PR-AUC", "base", "ROC-AUC", "base", "precision", "base", "recall", "base", "FPR", "base"], rows))
    parts.append("<h2>真实广告与普通短信误报率 / False positives on real ads and ordinary SMS</h2>")
    fx, fb = doc["false_positive_rate"]["xgboost"], doc["false_positive_rate"]["baseline"]
    parts.append(_table(["set", "n", "XGBoost FPR", "baseline FPR"], [[k, v["n"], v["rate"], fb[k]["rate"]] for k, v in fx.items()]))
    parts.append("<h2>诈骗类型 / Scam type (per-class F1)</h2>")
    for split in ("telecom_fraud_texts_5", "all_test"):
        x, b = doc["scam_type"]["xgboost"][split], doc["scam_type"]["baseline"][split]
        rows = [[c, x["per_class_f1"].get(c), b.get("per_class_f1", {}).get(c)] for c in x.get("classes", [])]
        rows.append(["macro-F1", x.get("macro_f1"), b.get("macro_f1")])
        parts.append(f"<h3>{split}</h3>" + _table(["class", "XGBoost F1", "baseline F1"], rows))
    t = doc["ai_technique"]["xgboost"]
    parts.append("<h2>AI 手段 / AI technique (synthetic test)</h2>")
    parts.append(_table(["class", "F1"], [[c, v] for c, v in t.get("per_class_f1", {}).items()] + [["macro-F1", t.get("macro_f1")]]))
    parts.append("<h2>长度检验 / Is it only learning length?</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(doc['length'], ensure_ascii=False, indent=1))}</pre>")
    parts.append("<h2>泛化 / Generalisation to unseen types and phrasings</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(doc['generalisation'], ensure_ascii=False, indent=1))}</pre>")
    for name, caption in charts:
        parts.append(f'<figure><img src="{name}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    parts.append("<h2>数据 / Data and thresholds</h2>")
    parts.append(f"<pre>{html.escape(json.dumps({'data': doc['data'], 'thresholds': doc['thresholds']}, ensure_ascii=False, indent=1))}</pre>")
    style = "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}"
    return f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Detector evaluation</title><style>{style}</style></head><body>{"".join(parts)}</body></html>'
