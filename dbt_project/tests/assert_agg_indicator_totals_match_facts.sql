-- agg_indicator_totals.total_value and reporting_units equal what fct_indicator_value holds.

with

totals as (

    select * from {{ ref('agg_indicator_totals') }}
    where {{ history_scope() }}

),

facts as (

    select
        period_code,
        indicator_code,
        sum(value_number) as total_value,
        count(*) as reporting_units

    from {{ ref('fct_indicator_value') }}
    where {{ history_scope() }}
    group by period_code, indicator_code

)

select
    coalesce(totals.period_code, facts.period_code) as period_code,
    coalesce(totals.indicator_code, facts.indicator_code) as indicator_code,
    totals.total_value as summary_total,
    facts.total_value as fact_total,
    totals.reporting_units as summary_units,
    facts.reporting_units as fact_units

from totals
full outer join facts
    on facts.period_code = totals.period_code
    and facts.indicator_code = totals.indicator_code
where totals.total_value is distinct from facts.total_value
    or coalesce(totals.reporting_units, 0) <> coalesce(facts.reporting_units, 0)
