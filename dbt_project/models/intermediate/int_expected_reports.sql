{{
    config(
        materialized='table',
        post_hook='analyze {{ this }}',
        indexes=[{'columns': ['period_code', 'unit_code'], 'unique': True}],
    )
}}

-- The reports that must come in: period x unit, for every unit with at least one task of the
-- period's programme assigned and in existence (valid) on the period's due date; for an ad hoc
-- period requested with a list of units, only those units.

with

periods as (

    select * from {{ ref('int_periods') }}

),

units as (

    select * from {{ ref('stg_catalogue__units') }}

),

assignments as (

    select * from {{ ref('stg_catalogue__assignments') }}

),

indicator_assignments as (

    select * from {{ ref('stg_catalogue__indicator_assignments') }}

),

adhoc_units as (

    select * from {{ ref('stg_ops__adhoc_period_units') }}

),

unit_tasks as (

    select
        programme_code,
        unit_code,
        count(*) as assigned_task_count,
        count(*) filter (where role = 'chu_tri') as lead_task_count

    from assignments
    group by programme_code, unit_code

),

unit_indicators as (

    select
        programme_code,
        unit_code,
        count(*) as assigned_indicator_count

    from indicator_assignments
    group by programme_code, unit_code

),

expected as (

    select
        periods.programme_code,
        periods.period_code,
        units.unit_code,
        units.unit_type,
        periods.due_date,
        periods.on_time_until,
        unit_tasks.assigned_task_count,
        unit_tasks.lead_task_count,
        coalesce(unit_indicators.assigned_indicator_count, 0) as assigned_indicator_count

    from periods
    inner join unit_tasks
        on unit_tasks.programme_code = periods.programme_code
    inner join units
        on units.unit_code = unit_tasks.unit_code
        and units.valid_from <= periods.due_date
        and (units.valid_to is null or units.valid_to >= periods.due_date)
    left join unit_indicators
        on unit_indicators.programme_code = periods.programme_code
        and unit_indicators.unit_code = units.unit_code
    where periods.period_code not in (select adhoc_units.period_code from adhoc_units)
        or exists (
            select 1 from adhoc_units
            where adhoc_units.period_code = periods.period_code
                and adhoc_units.unit_code = units.unit_code
        )

)

select * from expected
