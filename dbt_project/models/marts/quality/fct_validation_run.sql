-- Validation runs (lượt kiểm tra): when the data of a period was last checked, with which
-- ruleset, how many reports and rows, and what was found. Runs that found nothing new are here
-- too (reports_checked = 0), so "was it checked?" always has an answer.

with

validation_runs as (

    select * from {{ ref('stg_quality__validation_runs') }}

),

final as (

    select
        validation_run_id,
        period_code,
        pull_run_id,
        ruleset_version,
        started_at,
        finished_at,
        coalesce(reports_checked, 0) as reports_checked,
        coalesce(sheet_versions_checked, 0) as sheet_versions_checked,
        coalesce(rows_checked, 0) as rows_checked,
        coalesce(error_count, 0) as error_count,
        coalesce(warning_count, 0) as warning_count,
        gx_success

    from validation_runs

)

select * from final
