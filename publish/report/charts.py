"""The report's charts (matplotlib PNGs, in the report's font: :mod:`publish.report.fonts`).

A chart is drawn only when it says something a reader takes in at a glance: the reporting
rate by unit type when there are several unit types, and the indicators against their targets
when the period has targets. Bars are named (unit types, indicator names: never codes), carry
their value ("35/53 (66,0%)"), and the legend sits above the plot, clear of the bars.
Returns None where there is nothing to draw; the report then says it in words or not at all.
The same data gives the same bytes (no date in the PNG).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from publish.marts import number_vi, pct_vi
from publish.report.data import ReportData
from publish.report.fonts import chart_font

#: inches: the text width (165 mm) at the size the report places the charts
WIDTH_IN = 6.5
DPI = 150
#: colours of counted-on-time, counted-late, met, not met
ON_TIME, LATE, MET, NOT_MET = "#2F5597", "#9DC3E6", "#548235", "#C55A11"
LABEL_SIZE = 11


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def _style_axes(ax, labels: list[str]) -> None:
    ax.set_yticks(range(len(labels)), labels)
    for label in ax.get_yticklabels() + ax.get_xticklabels():
        label.set_fontproperties(chart_font(LABEL_SIZE))
    ax.invert_yaxis()  # the first row on top, as in the table
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", length=0)


def reporting_rate_chart(data: ReportData, path: Path) -> Path | None:
    """Biểu đồ 1 as a PNG at ``path``, or None (:func:`reporting_rate_figure`)."""
    fig = reporting_rate_figure(data)
    return None if fig is None else _save(fig, path)


def indicator_chart(data: ReportData, path: Path) -> Path | None:
    """Biểu đồ 2 as a PNG at ``path``, or None (:func:`indicator_figure`)."""
    fig = indicator_figure(data)
    return None if fig is None else _save(fig, path)


def reporting_rate_figure(data: ReportData):
    """Biểu đồ 1: per unit type, the share of its reports counted on time and late (stacked),
    labelled "counted/expected (rate)". None with a single unit type, or when no report counts
    (the table says it)."""
    types = data.unit_types
    if len(types) < 2 or not any(t["actual_reports"] for t in types):
        return None
    states = {s["state"]: s for s in data.states()}
    on_time_vi = states.get("hop_le_dung_han", {}).get("state_vi", "Nộp hợp lệ, đúng hạn")
    late_vi = states.get("hop_le_tre_han", {}).get("state_vi", "Nộp hợp lệ, trễ hạn")
    plt = _pyplot()
    labels = [textwrap.fill(t["unit_type_name"], 22) for t in types]
    on_time = [100 * t["on_time_reports"] / t["expected_reports"] for t in types]
    late = [100 * t["late_reports"] / t["expected_reports"] for t in types]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.62 * len(types) + 1.3), dpi=DPI)
    y = list(range(len(types)))
    ax.barh(y, on_time, height=0.6, color=ON_TIME, label=on_time_vi)
    ax.barh(y, late, left=on_time, height=0.6, color=LATE, label=late_vi)
    for i, t in enumerate(types):
        ax.text(
            on_time[i] + late[i] + 1.5,
            i,
            f"{number_vi(t['actual_reports'])}/{number_vi(t['expected_reports'])} "
            f"({pct_vi(t['reporting_rate'])})",
            va="center",
            fontproperties=chart_font(LABEL_SIZE),
        )
    _style_axes(ax, labels)
    ax.set_xlim(0, 128)  # room for the labels right of a full bar
    ax.set_xticks(range(0, 101, 20), [f"{v}%" for v in range(0, 101, 20)])
    ax.spines["bottom"].set_bounds(0, 100)
    for label in ax.get_xticklabels():
        label.set_fontproperties(chart_font(LABEL_SIZE))
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncol=2,
        frameon=False,
        prop=chart_font(LABEL_SIZE),
        borderaxespad=0,
    )
    fig.tight_layout()
    return fig


def indicator_figure(data: ReportData):
    """Biểu đồ 2: each indicator with a target this period, its result as a share of the
    target, with the 100 % line. None when no indicator has one (nothing to compare)."""
    rows = [i for i in data.indicators if i["achievement_rate"] is not None]
    if not rows:
        return None
    plt = _pyplot()
    values = [float(i["achievement_rate"]) * 100 for i in rows]
    met = [i["achievement_status"] == "dat" for i in rows]
    labels = [textwrap.fill(i["indicator_name"], 34) for i in rows]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.62 * len(rows) + 1.4), dpi=DPI)
    y = list(range(len(rows)))
    top = max([*values, 100.0])
    names = {i["achievement_status"]: i["achievement_vi"] for i in rows}
    for flag, colour, status in ((True, MET, "dat"), (False, NOT_MET, "chua_dat")):
        picked = [k for k in y if met[k] == flag]
        if picked:
            ax.barh(
                picked,
                [values[k] for k in picked],
                height=0.6,
                color=colour,
                label=names.get(status, status),
            )
    for k in y:
        ax.text(
            values[k] + top * 0.015,
            k,
            pct_vi(values[k] / 100),
            va="center",
            fontproperties=chart_font(LABEL_SIZE),
        )
    ax.axvline(100, color="black", linewidth=0.8, linestyle="--")
    _style_axes(ax, labels)
    ax.set_xlim(0, top * 1.18)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncol=2,
        frameon=False,
        prop=chart_font(LABEL_SIZE),
        borderaxespad=0,
    )
    ax.set_xlabel("% mục tiêu", fontproperties=chart_font(LABEL_SIZE))
    fig.tight_layout()
    return fig


def _save(fig, path: Path) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    # no "Software"/date metadata: the same data gives the same bytes
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def draw_charts(data: ReportData, folder: Path) -> dict[str, Path]:
    """The charts that say something, by name: "reporting_rate", "indicators"."""
    charts = {
        "reporting_rate": reporting_rate_chart(data, folder / "bieu_do_ty_le_nop.png"),
        "indicators": indicator_chart(data, folder / "bieu_do_chi_tieu.png"),
    }
    return {name: path for name, path in charts.items() if path is not None}
