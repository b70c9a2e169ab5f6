{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_id'], 'unique': True},
            {'columns': ['sheet_version_id', 'unit_code']},
        ],
        pre_hook="{{ history_touch('report', as_of_dependent=false) }}",
        post_hook="{{ history_record(as_of_dependent=false) }}",
    )
}}

-- The validation issues that currently hold for each report (sheet_version_id, unit_code): the
-- issues of the report's latest validation run (int_report_latest_runs).
-- Incremental (macros/history.sql): a build replaces the issues of the reports whose latest run
-- it has not taken in yet, and only those.

with

latest_runs as (

    {% if is_incremental() -%}
        {{ history_touched_rows(history_input('int_report_latest_runs'), 'report') }}
    {%- else -%}
        select * from {{ ref('int_report_latest_runs') }}
    {%- endif %}

),

current_issues as (

    select issues.*

    from latest_runs
    cross join lateral (
        select issues.* from {{ ref('stg_quality__validation_issues') }} as issues
        where issues.sheet_version_id = latest_runs.sheet_version_id
            and issues.unit_code = latest_runs.unit_code
            and issues.validation_run_id = latest_runs.validation_run_id
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as issues

)

select * from current_issues
