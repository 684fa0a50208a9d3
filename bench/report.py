"""The results table: mockbay next to the baseline, their ratio, and the issue's targets.

Rows are kept in the results JSON too (`table`), so the printed table and the file never disagree.
A side that did not run shows why in its cell: `not available` (mockbay serve not implemented
yet) or `failed` (it ran and broke; the section's `error` in the JSON says how).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common import ratio

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    """A bar of the speed issue (#15) on a mockbay/baseline ratio: the table's label and its test."""

    label: str
    meets: Callable[[float], bool]


def at_least(bar: float) -> Target:
    return Target(f">= {bar:g}x", lambda r: r >= bar)


def at_most(bar: float, what: str = "") -> Target:
    return Target(f"{what}<= {bar:g}x", lambda r: r <= bar)


# The bars, each defined once: the issue sets them as ratios to the bare server in one run.
MEMO_THROUGHPUT = at_least(0.85)  # c=64, one body repeated
DISTINCT_THROUGHPUT = at_least(0.5)  # c=64, every body distinct
WORKERS_2 = at_least(1.6)  # c=64, against one worker
STREAM_GAP = at_most(1.2, "p99 ")
TARGET_STREAM_GAP = (100, 500)  # stream counts whose p99 gap error has a target
STREAM_RSS = at_most(1.5)  # every stream count
STARTUP = at_most(1.3)


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _side(doc: dict[str, Any], *keys: str) -> tuple[dict[str, Any] | None, str]:
    """The figures at doc[keys...], or None and the text a cell shows instead."""
    node: Any = doc
    for key in keys:
        if isinstance(node, dict) and "error" in node:
            return None, "not available" if node["error"].startswith("not available") else "failed"
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and "error" not in node:
        return node, ""
    if isinstance(node, dict):
        return None, "not available" if node["error"].startswith("not available") else "failed"
    return None, "not run"


def _row(
    figure: str,
    mock: tuple[dict[str, Any] | None, str],
    base: tuple[dict[str, Any] | None, str],
    show: Callable[[dict[str, Any]], str],
    value: Callable[[dict[str, Any]], float | None] | None = None,
    target: Target | None = None,
) -> Row:
    """One table row; `value` picks the number the ratio compares, `target` judges that ratio."""
    (m, m_why), (b, b_why) = mock, base
    rate = ratio(value(m), value(b)) if value and m and b else None
    return {
        "figure": figure,
        "mockbay": show(m) if m else m_why,
        "baseline": show(b) if b else b_why,
        "ratio": rate,
        "target": target.label if target else "",
        "met": None if rate is None or target is None else target.meets(rate),
    }


def rows(doc: dict[str, Any], sizes: list[int]) -> list[Row]:
    """Every row of the summary table, in reading order."""
    out: list[Row] = []
    for c, target in (("c16", None), ("c64", MEMO_THROUGHPUT)):
        mock, base = _side(doc, "throughput", "mockbay", c), _side(doc, "throughput", "baseline", c)
        out.append(
            _row(
                f"non-stream req/s, {c.replace('c', 'c=')}",
                mock,
                base,
                lambda s: _num(s["rps"], 0),
                lambda s: s["rps"],
                target,
            )
        )
        out.append(
            _row(
                f"non-stream latency p50 / p99 ms, {c.replace('c', 'c=')}",
                mock,
                base,
                lambda s: f"{_num(s['p50_ms'], 2)} / {_num(s['p99_ms'], 2)}",
            )
        )
        out.append(
            _row(
                f"CPU cores: wrk + server + others, {c.replace('c', 'c=')}",
                mock,
                base,
                lambda s: (
                    f"{s['wrk_cpu_cores']:.2f} + {s['server_cpu_cores']:.2f} + {s['other_cpu_cores']:.2f}"
                ),
            )
        )
    for c in ("c16", "c64"):
        mock = _side(doc, "throughput", "mockbay_distinct", c)
        base = _side(doc, "throughput", "baseline_distinct", c)
        out.append(
            _row(
                f"non-stream req/s, {c.replace('c', 'c=')}, every body distinct (no memo hits)",
                mock,
                base,
                lambda s: _num(s["rps"], 0),
                lambda s: s["rps"],
                DISTINCT_THROUGHPUT if c == "c64" else None,
            )
        )
    for c in ("c16", "c64"):
        w2, w1 = _side(doc, "throughput", "mockbay_workers2", c), _side(doc, "throughput", "mockbay", c)
        row = _row(
            f"--workers 2 req/s, {c.replace('c', 'c=')} (baseline column: mockbay 1 worker)",
            w2,
            w1 if w1[0] else (None, "not available" if not doc["mockbay"]["available"] else w1[1]),
            lambda s: _num(s["rps"], 0),
            lambda s: s["rps"],
            WORKERS_2 if c == "c64" else None,
        )
        out.append(row)
    for n in sizes:
        mock, base = _side(doc, "streams", "mockbay", str(n)), _side(doc, "streams", "baseline", str(n))
        done_target = f"all {n}" if n == max(sizes) else ""
        row = _row(f"{n} streams: complete", mock, base, lambda s: f"{s['complete']}/{s['streams']}")
        if done_target and mock[0]:
            row["target"], row["met"] = done_target, mock[0]["complete"] == n
        out.append(row)
        out.append(
            _row(
                f"{n} streams: first event p50 / p99 ms",
                mock,
                base,
                lambda s: f"{_num(s['ttfe_p50_ms'])} / {_num(s['ttfe_p99_ms'])}",
            )
        )
        gap_target = n in TARGET_STREAM_GAP
        out.append(
            _row(
                f"{n} streams: gap error p50 / p99 ms",
                mock,
                base,
                lambda s: f"{_num(s['gap_error_p50_ms'], 2)} / {_num(s['gap_error_p99_ms'], 2)}",
                lambda s: s["gap_error_p99_ms"],
                STREAM_GAP if gap_target else None,
            )
        )
        out.append(
            _row(
                f"{n} streams: drift p99 / max ms",
                mock,
                base,
                lambda s: f"{_num(s['drift_p99_ms'])} / {_num(s['drift_max_ms'])}",
            )
        )
        out.append(
            _row(
                f"{n} streams: CPU cores: client + server + others",
                mock,
                base,
                lambda s: (
                    f"{s['client_cpu_cores']:.2f} + {s['server_cpu_cores']:.2f} + {s['other_cpu_cores']:.2f}"
                ),
            )
        )
        out.append(
            _row(
                f"{n} streams: RSS per open stream KiB",
                mock,
                base,
                lambda s: _num(s["rss_per_stream_kib"]),
                lambda s: s["rss_per_stream_kib"],
                STREAM_RSS,
            )
        )
    out.append(
        _row(
            "start to first reply ms (median)",
            _side(doc, "startup", "serve", "mockbay"),
            _side(doc, "startup", "serve", "baseline"),
            lambda s: _num(s["median_ms"]),
            lambda s: s["median_ms"],
            STARTUP,
        )
    )
    inproc, why = _side(doc, "startup", "in_process")
    out.append(
        {
            "figure": "in-process MockServer to first reply ms, first / second server (median)",
            "mockbay": f"{_num(inproc['first_ms']['median_ms'])} / {_num(inproc['again_ms']['median_ms'])}"
            if inproc
            else why,
            "baseline": "",
            "ratio": None,
            "target": "<= 50 ms",
            "met": inproc["first_ms"]["median_ms"] <= 50 if inproc else None,
        }
    )
    out.append(
        {
            "figure": "in-process: `import mockbay` + MockServer's modules ms (median, once per session)",
            "mockbay": _num(inproc["import_ms"]["median_ms"]) if inproc else why,
            "baseline": "",
            "ratio": None,
            "target": "",
            "met": None,
        }
    )
    ceiling, why = _side(doc, "ceiling")
    out.append(
        {
            "figure": "wrk ceiling req/s, c=64 (raw asyncio static responder)",
            "mockbay": "",
            "baseline": f"{_num(ceiling['rps'], 0)} (wrk {ceiling['wrk_cpu_us_per_request']:.1f} us CPU/req)"
            if ceiling
            else why,
            "ratio": None,
            "target": "",
            "met": None,
        }
    )
    return out


def markdown(table: list[Row]) -> str:
    """The rows as a GitHub markdown table."""
    lines = [
        "| figure | mockbay | baseline | mockbay/baseline | target | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in table:
        rate = "" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(
            f"| {row['figure']} | {row['mockbay']} | {row['baseline']} | {rate} | {row['target']} | {met} |"
        )
    return "\n".join(lines)
