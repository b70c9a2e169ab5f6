{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ history_touch('partition', reviewed=true) }}",
        post_hook="{{ history_record(reviewed=true) }}",
    )
}}

-- Indicator values reported by each unit for a period (unit x indicator x period), from the valid
-- rows of the unit's latest valid version that hold a number. Only expected reports and
-- indicators of the programme's catalogue; when an indicator appears on several rows, the first
-- row counts. includes_estimate: the period's figures from estimated_from to estimated_to (the
-- end of its data window, after the due date) are estimates (ước thực hiện), so the value is
-- partly an estimate.
-- Incremental (macros/history.sql): a build writes again the rows of the (period, unit) pairs
-- that changed since it last ran (a new version, a new check, the day it is built for, a
-- reviewer's decision).

with

counted_rows as (

    {% if is_incremental() -%}
        {{ valid_rows('int_indicator_rows_checked', report_versions=history_touched_rows(
            history_input('int_report_versions'))) }}
    {%- else -%}
        select * from {{ ref('int_valid_indicator_rows') }}
    {%- endif %}

),

valid_rows as (

    select * from counted_rows
    where value_number is not null

),

expected as (

    select * from {{ ref('int_expected_reports') }}

),

indicators as (

    select * from {{ ref('stg_catalogue__indicators') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

ranked as (

    select
        valid_rows.*,
        row_number() over (
            partition by valid_rows.period_code, valid_rows.unit_code, valid_rows.indicator_code
            order by valid_rows.row_number, valid_rows.row_key
        ) as row_rank

    from valid_rows
    inner join expected
        on expected.period_code = valid_rows.period_code
        and expected.unit_code = valid_rows.unit_code
    inner join indicators
        on indicators.indicator_code = valid_rows.indicator_code
        and indicators.programme_code = valid_rows.programme_code

),

final as (

    select
        ranked.programme_code,
        ranked.period_code,
        ranked.unit_code,
        ranked.indicator_code,
        ranked.value_number,
        ranked.value_reading,
        ranked.note_text,
        ranked.sheet_version_id,
        ranked.row_key,
        ranked.has_warning,
        periods.has_estimate as includes_estimate,
        periods.estimated_from,
        periods.estimated_to

    from ranked
    inner join periods
        on periods.period_code = ranked.period_code
    where ranked.row_rank = 1

)

select * from final
