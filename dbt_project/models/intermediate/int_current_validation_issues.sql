{{ config(materialized='table', post_hook='analyze {{ this }}') }}

-- The validation issues that currently hold for each report (sheet_version_id, unit_code): the
-- issues of the report's latest validation run (int_report_latest_runs).

with

issues as (

    select * from {{ ref('stg_quality__validation_issues') }}

),

latest_runs as (

    select * from {{ ref('int_report_latest_runs') }}

),

current_issues as (

    select issues.*

    from issues
    inner join latest_runs
        on latest_runs.sheet_version_id = issues.sheet_version_id
        and latest_runs.unit_code = issues.unit_code
        and latest_runs.validation_run_id = issues.validation_run_id

)

select * from current_issues
