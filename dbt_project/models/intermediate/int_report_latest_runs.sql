{{ config(materialized='table', post_hook='analyze {{ this }}') }}

-- The latest validation run of each report (sheet_version_id, unit_code). A report is first
-- checked by the run that parsed it (report header); a later run (new ruleset) leaves its rule
-- results and issues. The latest of the three is the run whose verdict holds.

with

headers as (

    select * from {{ ref('stg_parsed__report_headers') }}

),

issues as (

    select * from {{ ref('stg_quality__validation_issues') }}

),

rule_results as (

    select * from {{ ref('stg_quality__rule_results') }}

),

report_runs as (

    select
        sheet_version_id,
        unit_code,
        validation_run_id
    from headers
    union all
    select
        sheet_version_id,
        unit_code,
        validation_run_id
    from issues
    union all
    select
        sheet_version_id,
        unit_code,
        validation_run_id
    from rule_results

),

latest_runs as (

    select
        sheet_version_id,
        unit_code,
        max(validation_run_id) as validation_run_id

    from report_runs
    group by sheet_version_id, unit_code

)

select * from latest_runs
