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


# --- median and 95th percentile, several columns, each against its own reference ---


def summarize_p95(samples):
    """Median and 95th percentile of each figure of `samples` (dicts with `wall` and
    `server` in seconds and `queries`). `server` and `queries` are None for a call that
    is not an Odoo request (a gateway called directly): their figures are then None."""
    walls = [s["wall"] for s in samples]
    servers = [s["server"] for s in samples if s.get("server") is not None]
    queries = [s["queries"] for s in samples if s.get("queries") is not None]
    return {
        "n": len(samples),
        "wall_median_ms": statistics.median(walls) * 1000,
        "wall_p95_ms": percentile(walls, 0.95) * 1000,
        "server_median_ms": statistics.median(servers) * 1000 if servers else None,
        "server_p95_ms": percentile(servers, 0.95) * 1000 if servers else None,
        "queries_median": statistics.median(queries) if queries else None,
        "queries_p95": percentile(queries, 0.95) if queries else None,
    }


P95_ROWS = (
    ("wall time, median (ms)", "wall_median_ms", "{:.1f}"),
    ("wall time, p95 (ms)", "wall_p95_ms", "{:.1f}"),
    ("server time, median (ms)", "server_median_ms", "{:.1f}"),
    ("server time, p95 (ms)", "server_p95_ms", "{:.1f}"),
    ("SQL queries, median", "queries_median", "{:g}"),
    ("SQL queries, p95", "queries_p95", "{:g}"),
)


def ratio_table(columns, rows=P95_ROWS):
    """`columns`: (title, summary, reference summary or None). A column with a reference
    is followed by its ratio to it; a figure that does not apply prints as '-'."""
    width = max(len(label) for label, _key, _fmt in rows)
    header = f"{'':<{width}}"
    for title, _summary, reference in columns:
        header += f"  {title:>14}" + (f"  {'ratio':>7}" if reference else "")
    lines = [header, "-" * len(header)]
    for label, key, fmt in rows:
        line = f"{label:<{width}}"
        for title, summary, reference in columns:
            value = summary[key]
            line += f"  {'-' if value is None else fmt.format(value):>{max(14, len(title))}}"
            if reference:
                base = reference[key]
                ratio = f"{value / base:.2f}x" if value is not None and base else "-"
                line += f"  {ratio:>7}"
        lines.append(line)
    return "\n".join(lines)
