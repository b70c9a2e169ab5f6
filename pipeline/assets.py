"""The Assets that chain the reporting DAGs, and what their events carry.

``tonghop_reporting_cycle`` (pull, validate) updates :data:`LANDED` with the period it landed;
``tonghop_build_warehouse`` is scheduled on it and updates :data:`MARTS` with every period its
build covered; ``tonghop_publish`` is scheduled on that and publishes those periods, updating
:data:`SUMMARY`. Any other DAG (a BI refresh, an export) can be scheduled on the same Assets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow.sdk import Asset

# The name is the URI (Airflow's default): an Asset renamed with the same URI would leave the
# old one active in an existing metadata database, and tasks naming the new one would fail
# ("inactive assets in its inlets or outlets").
LANDED = Asset("tonghop://warehouse/landed")
MARTS = Asset("tonghop://warehouse/marts")
SUMMARY = Asset("tonghop://publish/summary")


def _extra(event: Any) -> Mapping[str, Any]:
    """An asset event's extra: an event object's attribute, or a dict's key (the REST API's
    shape); {} when it has none."""
    return (
        getattr(event, "extra", None)
        or (event.get("extra") if isinstance(event, Mapping) else None)
        or {}
    )


def triggering_events(context: Mapping[str, Any], asset: Asset) -> list[Any]:
    """The events of ``asset`` that triggered this run; none for a run not triggered by it."""
    events = context.get("triggering_asset_events") or {}
    try:
        return list(events[asset])
    except KeyError:
        return []


def periods_of(events: Iterable[Any]) -> list[str]:
    """The period codes named by asset events' extras (``period_code`` or ``period_codes``),
    once each, sorted."""
    periods: set[str] = set()
    for event in events:
        extra = _extra(event)
        if extra.get("period_code"):
            periods.add(extra["period_code"])
        periods.update(p for p in extra.get("period_codes") or [] if p)
    return sorted(periods)


def triggered_periods(context: Mapping[str, Any], asset: Asset) -> list[str]:
    """Periods of the events that triggered this run (an asset-triggered run), else the run's
    ``period_codes`` param (a run started by hand or by ``airflow dags test``)."""
    params = context.get("params") or {}
    return periods_of(triggering_events(context, asset)) or sorted(
        set(params.get("period_codes") or [])
    )


def as_of_of(events: Iterable[Any]) -> str | None:
    """The latest ``as_of_date`` (ISO day) named by asset events' extras, if any: a build
    triggered by the pulls of several days is as of the newest."""
    days = []
    for event in events:
        extra = _extra(event)
        if extra.get("as_of_date"):
            days.append(str(extra["as_of_date"]))
    return max(days, default=None)


def triggered_as_of(context: Mapping[str, Any], asset: Asset) -> str | None:
    """The run's ``as_of_date`` param (a run started by hand or by the calendar), else the
    newest day named by the events that triggered it; None when neither says."""
    params = context.get("params") or {}
    if params.get("as_of_date"):
        return str(params["as_of_date"])
    return as_of_of(triggering_events(context, asset))
