-- The province summary (bảng tổng hợp): one row per period, reporting rates and task progress.
-- Task completion is counted only over tasks with an end (agg_task_group_summary's rule): the task
-- columns are the sums of agg_task_group_summary's.

with

periods as (

    select * from {{ ref('dim_period') }}

),

agg_task_group_summary as (

    select * from {{ ref('agg_task_group_summary') }}

),

expected as (

    select * from {{ ref('int_expected_reports') }}

),

-- the all-unit-types row of agg_reporting_rate: one definition of the DHIS2 counts
submission_counts as (

    select * from {{ ref('agg_reporting_rate') }}
    where unit_type = 'tat_ca'

),

task_assignment_counts as (

    select
        period_code,
        sum(assigned_task_count) as tasks_assigned

    from expected
    group by period_code

),

task_counts as (

    select
        period_code,
        sum(tasks_reported) as tasks_reported,
        sum(tasks_with_end) as tasks_with_end,
        sum(tasks_with_end_done) as tasks_with_end_done,
        sum(tasks_in_progress) as tasks_in_progress,
        sum(tasks_not_started) as tasks_not_started,
        sum(ongoing_tasks) as ongoing_tasks,
        sum(ongoing_tasks_reported) as ongoing_tasks_reported,
        sum(ongoing_tasks_active) as ongoing_tasks_active,
        sum(ongoing_tasks_with_result) as ongoing_tasks_with_result

    from agg_task_group_summary
    group by period_code

),

final as (

    select
        periods.programme_code,
        periods.period_code,
        periods.period_name,
        periods.period_kind,
        periods.due_date,
        {{ as_of_date() }} as as_of_date,
        coalesce(submission_counts.expected_reports, 0) as expected_reports,
        coalesce(submission_counts.actual_reports, 0) as actual_reports,
        submission_counts.reporting_rate,
        coalesce(submission_counts.on_time_reports, 0) as on_time_reports,
        submission_counts.on_time_rate,
        coalesce(submission_counts.late_reports, 0) as late_reports,
        coalesce(submission_counts.missing_reports, 0) as missing_reports,
        coalesce(submission_counts.overdue_reports, 0) as overdue_reports,
        coalesce(task_assignment_counts.tasks_assigned, 0) as tasks_assigned,
        coalesce(task_counts.tasks_reported, 0)::bigint as tasks_reported,
        coalesce(task_counts.tasks_with_end, 0)::bigint as tasks_with_end,
        coalesce(task_counts.tasks_with_end_done, 0)::bigint as tasks_with_end_done,
        coalesce(task_counts.tasks_in_progress, 0)::bigint as tasks_in_progress,
        coalesce(task_counts.tasks_not_started, 0)::bigint as tasks_not_started,
        {{ safe_rate('task_counts.tasks_with_end_done', 'task_counts.tasks_with_end') }}
            as task_done_rate,
        coalesce(task_counts.ongoing_tasks, 0)::bigint as ongoing_tasks,
        coalesce(task_counts.ongoing_tasks_reported, 0)::bigint as ongoing_tasks_reported,
        coalesce(task_counts.ongoing_tasks_active, 0)::bigint as ongoing_tasks_active,
        coalesce(task_counts.ongoing_tasks_with_result, 0)::bigint as ongoing_tasks_with_result,
        -- reports not counted because their "Đã nộp" version has errors (fct_submission's
        -- state con_loi; a unit whose valid report stands is not among them)
        coalesce(submission_counts.with_errors_reports, 0) as units_with_errors,
        coalesce(submission_counts.not_submitted_reports, 0) as not_submitted_reports,
        coalesce(submission_counts.not_filled_reports, 0) as not_filled_reports,
        coalesce(submission_counts.no_sheet_reports, 0) as no_sheet_reports,
        -- review (issue 24): whether reports count only once accepted, and the valid reports
        -- not accepted yet (awaiting review, returned)
        periods.review_required,
        coalesce(submission_counts.awaiting_review_reports, 0) as awaiting_review_reports,
        coalesce(submission_counts.returned_reports, 0) as returned_reports

    from periods
    left join submission_counts
        on submission_counts.period_code = periods.period_code
    left join task_assignment_counts
        on task_assignment_counts.period_code = periods.period_code
    left join task_counts
        on task_counts.period_code = periods.period_code

)

select * from final
