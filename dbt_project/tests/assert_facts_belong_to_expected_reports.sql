-- Every row of the task, indicator and feedback facts belongs to an expected report
-- (a row of fct_submission) that has a usable version.

with

submissions as (

    select * from {{ ref('fct_submission') }}

),

fact_reports as (

    select
        'fct_task_progress' as fact,
        period_code,
        unit_code,
        sheet_version_id
    from {{ ref('fct_task_progress') }}
    where {{ history_scope() }}
    union all
    select
        'fct_indicator_value' as fact,
        period_code,
        unit_code,
        sheet_version_id
    from {{ ref('fct_indicator_value') }}
    where {{ history_scope() }}
    union all
    select
        'fct_feedback' as fact,
        period_code,
        unit_code,
        sheet_version_id
    from {{ ref('fct_feedback') }}
    where {{ history_scope() }}

)

select fact_reports.*

from fact_reports
left join submissions
    on submissions.period_code = fact_reports.period_code
    and submissions.unit_code = fact_reports.unit_code
where submissions.unit_code is null
    or submissions.version_count = 0
