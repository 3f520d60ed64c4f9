"""Summaries of timed samples and the table a benchmark prints."""

import math
import statistics


def percentile(values, fraction):
    """Nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(samples):
    """`samples`: dicts with `wall` (s), `server` (s) and `queries`, one per request."""
    walls = [s["wall"] for s in samples]
    return {
        "n": len(samples),
        "wall_median_ms": statistics.median(walls) * 1000,
        "wall_p90_ms": percentile(walls, 0.9) * 1000,
        "server_median_ms": statistics.median(s["server"] for s in samples) * 1000,
        "queries_median": statistics.median(s["queries"] for s in samples),
        "queries_max": max(s["queries"] for s in samples),
    }


ROWS = (
    ("wall time, median (ms)", "wall_median_ms", "{:.1f}"),
    ("wall time, p90 (ms)", "wall_p90_ms", "{:.1f}"),
    ("server time, median (ms)", "server_median_ms", "{:.1f}"),
    ("SQL queries, median", "queries_median", "{:g}"),
    ("SQL queries, max", "queries_max", "{:g}"),
)


def table(name, measured, baseline_name, baseline):
    """Rows `measured | baseline | measured/baseline` for each summary figure."""
    width = max(len(label) for label, _key, _fmt in ROWS)
    header = f"{'':<{width}}  {name:>14}  {baseline_name:>14}  {'ratio':>7}"
    lines = [header, "-" * len(header)]
    for label, key, fmt in ROWS:
        ratio = measured[key] / baseline[key] if baseline[key] else float("nan")
        lines.append(
            f"{label:<{width}}  {fmt.format(measured[key]):>14}  "
            f"{fmt.format(baseline[key]):>14}  {ratio:>6.2f}x"
        )
    return "\n".join(lines)
