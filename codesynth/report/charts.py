"""The report's charts, as Plotly figures (drawn in the page by the inlined plotly.js).

Each function returns a :class:`Chart`: an id, a title, a one-line note and the figure as
JSON. Only Plotly draws; this module chooses the data and the chart type.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GOOD, BAD, NEUTRAL = "#2ca02c", "#d62728", "#7f7f7f"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    note: str
    figure: str  # Plotly's JSON of the figure


def _json(figure: Any) -> str:
    import plotly.io

    figure.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                         legend={"orientation": "h", "y": -0.2}, height=340)
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    return str(plotly.io.to_json(figure, validate=True, pretty=False))


def wilson(passed: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a pass rate (95 % by default)."""
    if total == 0:
        return (0.0, 0.0)
    rate = passed / total
    denominator = 1 + z * z / total
    centre = (rate + z * z / (2 * total)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def funnel(stages: dict[str, dict[str, Any]]) -> Chart:
    """Per stage: kept, then one stacked segment per rejection reason."""
    import plotly.graph_objects as go

    names = list(stages)
    figure = go.Figure()
    figure.add_bar(name="kept", y=names, x=[stages[s].get("out", 0) for s in names],
                   orientation="h", marker_color=GOOD, texttemplate="%{x}",
                   textposition="inside", insidetextanchor="middle")
    reasons = sorted({r for s in names for r in stages[s].get("rejected", {})})
    for reason in reasons:
        values = [stages[s].get("rejected", {}).get(reason) or None for s in names]
        figure.add_bar(name=reason, y=names, x=values, orientation="h",
                       texttemplate="%{x}", textposition="inside")
    figure.update_layout(barmode="stack", yaxis={"autorange": "reversed"},
                         xaxis_title="records", height=max(300, 48 * len(names) + 120))
    return Chart("funnel", "Funnel: kept and rejected (by reason) per stage",
                 "each bar is a stage's input; green is what it kept", _json(figure))


def pass_rates(dimension: str, groups: dict[str, list[int]]) -> Chart:
    import plotly.graph_objects as go

    values = sorted(groups, key=_natural)
    rates = [groups[v][1] / groups[v][0] if groups[v][0] else 0.0 for v in values]
    bounds = [wilson(groups[v][1], groups[v][0]) for v in values]
    figure = go.Figure(go.Bar(
        x=values, y=rates, marker_color=GOOD,
        text=[f"{groups[v][1]}/{groups[v][0]}" for v in values], textposition="inside",
        insidetextanchor="start",
        error_y={"type": "data", "symmetric": False,
                 "array": [b[1] - r for b, r in zip(bounds, rates, strict=True)],
                 "arrayminus": [r - b[0] for b, r in zip(bounds, rates, strict=True)]}))
    figure.update_layout(yaxis={"range": [0, 1.15], "tickformat": ".0%"},
                         xaxis={"type": "category", "title": dimension})
    return Chart(f"pass-{dimension}", f"Verification pass rate per {dimension}",
                 "passed / verified candidates, with 95% Wilson intervals", _json(figure))


def failures(counts: dict[tuple[str, str], int], title: str, chart_id: str) -> Chart:
    """Failed candidates by status, stacked by exception type."""
    import plotly.graph_objects as go

    statuses = sorted({s for s, _ in counts}, key=lambda s: -sum(
        v for (t, _), v in counts.items() if t == s))
    figure = go.Figure()
    for kind in sorted({k for _, k in counts}):
        figure.add_bar(name=kind, x=statuses,
                       y=[counts.get((s, kind)) or None for s in statuses])
    figure.update_layout(barmode="stack", xaxis={"type": "category", "title": "status"},
                         yaxis_title="candidates", showlegend=True)
    return Chart(chart_id, title, "status of each failed candidate, split by exception type",
                 _json(figure))


def bars(chart_id: str, title: str, note: str, series: Mapping[str, Mapping[str, float]],
         x_title: str, y_title: str, stack: bool = False) -> Chart:
    """Named series of values over shared categories (grouped, or stacked)."""
    import plotly.graph_objects as go

    categories: list[str] = []
    for values in series.values():
        categories += [c for c in values if c not in categories]
    figure = go.Figure()
    for name, values in series.items():
        figure.add_bar(name=name, x=categories, y=[values.get(c) or None for c in categories],
                       texttemplate="%{y}", textposition="auto")
    figure.update_layout(barmode="stack" if stack else "group",
                         xaxis={"type": "category", "title": x_title}, yaxis_title=y_title,
                         showlegend=len(series) > 1)
    return Chart(chart_id, title, note, _json(figure))


def strength(bins: list[int], stage: str) -> Chart:
    import plotly.graph_objects as go

    width = 1 / len(bins)
    labels = [f"{i * width:.1f}-{(i + 1) * width:.1f}" for i in range(len(bins))]
    figure = go.Figure(go.Bar(x=labels, y=bins, marker_color=GOOD))
    figure.update_layout(bargap=0.02, xaxis={"type": "category", "title": "test strength"},
                         yaxis_title="records")
    return Chart("strength", "Test strength (mutation score)",
                 f"as measured in the {stage} stage", _json(figure))


def pass_at_k(runs: dict[str, tuple[dict[str, float], dict[str, tuple[float, float]]]]
              ) -> Chart:
    """pass@k of each run, with its confidence interval as error bars."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for name, (scores, intervals) in runs.items():
        ks = list(scores)
        figure.add_bar(name=name, x=ks, y=[scores[k] for k in ks],
                       text=[f"{scores[k]:.3f}" for k in ks], textposition="inside",
                       insidetextanchor="start",
                       error_y={"type": "data", "symmetric": False,
                                "array": [intervals[k][1] - scores[k] for k in ks],
                                "arrayminus": [scores[k] - intervals[k][0] for k in ks]})
    figure.update_layout(barmode="group", yaxis={"range": [0, 1.15], "tickformat": ".0%"},
                         xaxis={"type": "category"}, showlegend=len(runs) > 1)
    return Chart("pass-at-k", "pass@k", "unbiased estimator, mean over problems; error bars: "
                 "95% percentile bootstrap over problems (1,000 resamples)", _json(figure))


def delta(scores: dict[str, float], intervals: dict[str, tuple[float, float]]) -> Chart:
    import plotly.graph_objects as go

    ks = list(scores)
    figure = go.Figure(go.Bar(
        x=ks, y=[scores[k] for k in ks],
        marker_color=[GOOD if scores[k] >= 0 else BAD for k in ks],
        text=[f"{scores[k]:+.3f}" for k in ks], textposition="outside",
        error_y={"type": "data", "symmetric": False,
                 "array": [intervals[k][1] - scores[k] for k in ks],
                 "arrayminus": [scores[k] - intervals[k][0] for k in ks]}))
    figure.update_layout(xaxis={"type": "category"}, yaxis={"tickformat": "+.0%"})
    return Chart("delta", "Change in pass@k (B - A, problems both attempted)",
                 "95% paired bootstrap intervals over problems", _json(figure))


def per_problem(runs: dict[str, dict[str, tuple[int, int]]]) -> Chart:
    import plotly.graph_objects as go

    figure = go.Figure()
    for name, counts in runs.items():
        tasks = list(counts)
        figure.add_bar(name=name, x=tasks, y=[c / n if n else 0 for n, c in counts.values()],
                       customdata=[f"{c}/{n}" for n, c in counts.values()],
                       hovertemplate="%{x}: %{customdata} passed<extra></extra>")
    figure.update_layout(barmode="group", yaxis={"range": [0, 1], "tickformat": ".0%"},
                         xaxis={"type": "category", "title": "problem"},
                         showlegend=len(runs) > 1)
    return Chart("per-problem", "Pass rate per problem", "passing samples / samples",
                 _json(figure))


def _natural(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)
