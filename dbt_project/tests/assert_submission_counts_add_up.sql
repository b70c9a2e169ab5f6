-- Per period, expected reports = on time + late + missing, and the summary agrees with the
-- submission fact it is built from.

with

summary as (

    select * from {{ ref('agg_province_summary') }}

),

submissions as (

    select
        period_code,
        count(*) as submission_rows

    from {{ ref('fct_submission') }}
    group by period_code

)

select
    summary.period_code,
    summary.expected_reports,
    summary.on_time_reports,
    summary.late_reports,
    summary.missing_reports,
    coalesce(submissions.submission_rows, 0) as submission_rows

from summary
left join submissions
    on submissions.period_code = summary.period_code
where
    summary.expected_reports <> (
        summary.on_time_reports + summary.late_reports + summary.missing_reports
    )
    or summary.expected_reports <> coalesce(submissions.submission_rows, 0)
