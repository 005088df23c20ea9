"""`chatbot eval --report DIR`: the per-intent report as JSON and a confusion-matrix picture as PNG.

matplotlib is imported here only, so nothing else pays for it; it draws with the
non-interactive Agg backend, so no display is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

from chatbot.errors import UserError
from chatbot.evaluation import Report

REPORT_JSON = "intent_report.json"
CONFUSION_PNG = "confusion_matrix.png"
HISTOGRAM_PNG = "confidence_histogram.png"


def write_report(report: Report, directory: Path) -> list[Path]:
    """Write the report files into `directory` (created if needed); returns their paths."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{directory}: can't create the report directory ({err.strerror})") from err
    data = {
        "summary": report.summary(),
        "per_intent": report.per_intent(),
        "confused_pairs": [{"gold": g, "predicted": p, "count": n} for g, p, n in report.confused_pairs(limit=50)],
    }
    paths = [directory / REPORT_JSON, directory / CONFUSION_PNG, directory / HISTOGRAM_PNG]
    paths[0].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _confusion_png(report, paths[1])
    _histogram_png(report, paths[2])
    return paths


def _confusion_png(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, counts = report.confusion()
    size = max(6.0, 0.28 * len(labels) + 3)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(counts, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
    axes.set_yticks(range(len(labels)), labels, fontsize=6)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(f"Confusion matrix ({len(report.results)} cases, top-1 {report.accuracy:.3f})")
    for row, line in enumerate(counts):
        for column, count in enumerate(line):
            if count:
                axes.text(column, row, str(count), ha="center", va="center", fontsize=5,
                          color="white" if count > max(map(max, counts)) / 2 else "black")
    figure.colorbar(image, fraction=0.03)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _histogram_png(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = report.confidence_histogram()
    edges = [n / len(bins["right"]) for n in range(len(bins["right"]))]
    width = 1 / len(bins["right"])
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.bar(edges, bins["right"], width=width, align="edge", alpha=0.7, label="right", color="tab:green")
    axes.bar(edges, [-n for n in bins["wrong"]], width=width, align="edge", alpha=0.7, label="wrong", color="tab:red")
    axes.set_xlabel("confidence")
    axes.set_ylabel("cases (wrong below the line)")
    axes.set_title("Confidence of right and wrong answers")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
