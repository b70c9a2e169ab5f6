{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['sheet_version_id', 'unit_code'],
        on_schema_change='fail',
        indexes=[
            {'columns': ['sheet_version_id', 'unit_code'], 'unique': True},
            {'columns': ['period_code', 'validation_run_id']},
            {'columns': ['period_code', 'unit_code']},
        ],
        pre_hook="{{ history_touch_runs() }}",
        post_hook="{{ history_record(as_of_dependent=false, latest_runs=this) }}",
    )
}}

-- The latest validation run of each report (sheet_version_id, unit_code). A report is first
-- checked by the run that parsed it (report header); a later run (new ruleset) leaves its rule
-- results and issues. The latest of the three is the run whose verdict holds.
--
-- Incremental (macros/history.sql): a build reads only the rows of the validation runs of each
-- period newer than the newest it has taken in, through the sources' indexes on
-- validation_run_id; a report they name gets the newest of them (a period's later run has a
-- greater id than any the model took in).
-- Every other incremental model starts from what this one took in.

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

runs_to_read as (

    {% if is_incremental() -%}
        select validation_run_id from {{ history_touched() }}
    {%- else -%}
        select validation_run_id from {{ ref('stg_quality__validation_runs') }}
    {%- endif %}

),

report_runs as (

    -- each source through its index on validation_run_id, one run at a time
    select
        headers.sheet_version_id,
        headers.unit_code,
        headers.period_code,
        headers.validation_run_id
    from runs_to_read
    cross join
        lateral (
            select headers.* from headers
            where headers.validation_run_id = runs_to_read.validation_run_id
            -- one probe per row (macros/history.sql, history_touched_rows)
            offset 0  -- noqa: AM09
        ) as headers
    union all
    select
        issues.sheet_version_id,
        issues.unit_code,
        issues.period_code,
        issues.validation_run_id
    from runs_to_read
    cross join
        lateral (
            select issues.* from issues
            where issues.validation_run_id = runs_to_read.validation_run_id
            -- one probe per row (macros/history.sql, history_touched_rows)
            offset 0  -- noqa: AM09
        ) as issues
    union all
    select
        rule_results.sheet_version_id,
        rule_results.unit_code,
        rule_results.period_code,
        rule_results.validation_run_id
    from runs_to_read
    cross join lateral (
        select rule_results.* from rule_results
        where rule_results.validation_run_id = runs_to_read.validation_run_id
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as rule_results

),

latest_runs as (

    select
        sheet_version_id,
        unit_code,
        period_code,
        max(validation_run_id) as validation_run_id

    from report_runs
    group by sheet_version_id, unit_code, period_code

)

select * from latest_runs
