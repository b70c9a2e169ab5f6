"""What the report says, read from the marts (as ``bi_reader``, in the publisher's one
transaction): the period and its programme, every expected report with its one state, the
rates, task groups, indicators and the units' feedback. Nothing here words or lays out."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from publish.marts import query

#: the order the report lists submission states in: fct_submission's rule, from counted to
#: nothing read. The states and their names are the mart's (``submission_state``,
#: ``submission_state_vi``, ``is_counted``); a state this list does not know yet follows the
#: known ones, counted states first.
STATE_ORDER = (
    "hop_le_dung_han",
    "hop_le_tre_han",
    # a period that requires review: valid, not accepted yet
    "cho_duyet",
    "bi_tra_lai",
    "con_loi",
    "chua_chon_da_nop",
    "chua_dien",
    "chua_co_bang",
)


@dataclass
class ReportData:
    """Everything the report says, read from the marts."""

    programme: dict
    period: dict
    summary: dict
    next_period: dict | None
    previous_period: dict | None
    rates: list[dict]
    submissions: list[dict]  # every expected report: unit, unit type, state, days late
    #: units whose report for the previous period of the same kind did not count either
    previous_not_counted: list[str]
    groups: list[dict]
    indicators: list[dict]
    difficulties: list[dict]  # {"content", "units": [names]}
    recommendations: list[dict]
    input_row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def not_counted(self) -> list[dict]:
        """The reports that do not count (fct_submission's ``is_counted``), whatever their
        state."""
        return [s for s in self.submissions if not s["is_counted"]]

    @property
    def unit_types(self) -> list[dict]:
        """The unit types expected this period, as agg_reporting_rate names and orders them
        (without its all-types row)."""
        return [r for r in self.rates if r["unit_type"] != "tat_ca" and r["expected_reports"]]

    def states(self) -> list[dict]:
        """The submission states this period has, in :data:`STATE_ORDER`: {"state",
        "state_vi", "is_counted", "units": [submission rows]}."""
        by_state: dict[str, dict] = {}
        for s in self.submissions:
            entry = by_state.setdefault(
                s["submission_state"],
                {
                    "state": s["submission_state"],
                    "state_vi": s["submission_state_vi"],
                    "is_counted": s["is_counted"],
                    "units": [],
                },
            )
            entry["units"].append(s)

        def rank(state: dict) -> tuple:
            known = state["state"] in STATE_ORDER
            return (
                0 if known else 1,
                STATE_ORDER.index(state["state"]) if known else (not state["is_counted"]),
                state["state_vi"],
            )

        return sorted(by_state.values(), key=rank)


def _grouped_feedback(rows: list[dict], kind: str) -> list[dict]:
    """Identical texts from several units become one item naming them all, the items raised by
    most units first. A text without a letter or a digit ("-", "…") says nothing and is left
    out (it stays in the marts and the summary workbook)."""
    by_text: OrderedDict[str, list[str]] = OrderedDict()
    for row in rows:
        if row["feedback_kind"] != kind:
            continue
        text = " ".join(row["content_text"].split())
        if not any(ch.isalnum() for ch in text):
            continue
        by_text.setdefault(text, [])
        if row["unit_name"] not in by_text[text]:
            by_text[text].append(row["unit_name"])
    items = [{"content": text, "units": units} for text, units in by_text.items()]
    return sorted(items, key=lambda item: (-len(item["units"]), item["content"]))


def load_report_data(conn, period_code: str) -> ReportData:
    period = query(conn, "select * from marts.dim_period where period_code = %s", (period_code,))
    if not period:
        raise LookupError(f"marts.dim_period has no period {period_code}; run the dbt build")
    period = period[0]
    programme = query(
        conn,
        "select * from marts.dim_programme where programme_code = %s",
        (period["programme_code"],),
    )[0]
    summary = query(
        conn, "select * from marts.agg_province_summary where period_code = %s", (period_code,)
    )
    if not summary:
        raise LookupError(f"marts.agg_province_summary has no row for {period_code}")
    next_period = query(
        conn,
        """
        select * from marts.dim_period
        where programme_code = %s and due_date > %s
        order by due_date limit 1""",
        (period["programme_code"], period["due_date"]),
    )
    previous_period = query(
        conn,
        "select * from marts.dim_period where period_code = %s",
        (period["previous_period_code"],),
    )
    rates = query(
        conn,
        """
        select * from marts.agg_reporting_rate where period_code = %s
        order by unit_type = 'tat_ca', unit_type_name""",
        (period_code,),
    )
    submissions = query(
        conn,
        """
        select unit_code, unit_name_at_period as unit_name, unit_type, submission_state,
               submission_state_vi, is_counted, days_late
        from marts.fct_submission where period_code = %s
        order by unit_name_at_period, unit_code""",
        (period_code,),
    )
    previous_not_counted = [
        row["unit_code"]
        for row in query(
            conn,
            """
            select unit_code from marts.fct_submission
            where period_code = %s and not is_counted order by unit_code""",
            (period["previous_period_code"],),
        )
    ]
    groups = query(
        conn,
        """
        select * from marts.agg_task_group_summary where period_code = %s
        order by task_group_code""",
        (period_code,),
    )
    indicators = query(
        conn,
        """
        select t.*, i.target_text_vi
        from marts.agg_indicator_totals t join marts.dim_indicator i using (indicator_code)
        where t.period_code = %s order by t.indicator_code""",
        (period_code,),
    )
    feedback = query(
        conn,
        """
        select f.feedback_kind, f.content_text, s.unit_name_at_period as unit_name
        from marts.fct_feedback f
        join marts.fct_submission s using (period_code, unit_code)
        where f.period_code = %s
        order by f.unit_code, f.row_number""",
        (period_code,),
    )
    return ReportData(
        programme=programme,
        period=period,
        summary=summary[0],
        next_period=next_period[0] if next_period else None,
        previous_period=previous_period[0] if previous_period else None,
        rates=rates,
        submissions=submissions,
        previous_not_counted=previous_not_counted,
        groups=groups,
        indicators=indicators,
        difficulties=_grouped_feedback(feedback, "kho_khan"),
        recommendations=_grouped_feedback(feedback, "kien_nghi"),
        input_row_counts={
            "dim_period": 1 + len(next_period) + len(previous_period),
            "dim_programme": 1,
            "agg_province_summary": 1,
            "agg_reporting_rate": len(rates),
            "agg_task_group_summary": len(groups),
            "agg_indicator_totals": len(indicators),
            "fct_submission": len(submissions),
            "fct_feedback": len(feedback),
        },
    )
