{{ config(materialized='table') }}

-- The validation issues that currently hold for each report (sheet_version_id, unit_code): the
-- issues of the report's latest validation run. A report can be validated again (new ruleset);
-- the latest run is the highest of the run recorded on the report header and the runs that
-- raised issues on it.

with

headers as (

    select * from {{ ref('stg_parsed__report_headers') }}

),

issues as (

    select * from {{ ref('stg_quality__validation_issues') }}

),

report_runs as (

    select sheet_version_id, unit_code, validation_run_id from headers
    union all
    select sheet_version_id, unit_code, validation_run_id from issues

),

latest_runs as (

    select
        sheet_version_id,
        unit_code,
        max(validation_run_id) as validation_run_id

    from report_runs
    group by sheet_version_id, unit_code

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
