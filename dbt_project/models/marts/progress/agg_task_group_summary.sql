-- Task progress by task group and period (hoàn thành theo nhóm nhiệm vụ): how many (unit, task)
-- assignments of expected reports were reported, and with which progress (fct_task_progress's
-- progress_code). Completion is counted only over tasks with an end (hằng năm, or with a
-- deadline): task_done_rate = tasks_with_end_done / tasks_with_end. Ongoing tasks (thường
-- xuyên) never finish; they are counted as reported, active and with a result.

with

periods as (

    select * from {{ ref('dim_period') }}

),

task_groups as (

    select * from {{ ref('stg_catalogue__task_groups') }}

),

tasks as (

    select * from {{ ref('stg_catalogue__tasks') }}

),

assignments as (

    select * from {{ ref('stg_catalogue__assignments') }}

),

expected as (

    select * from {{ ref('int_expected_reports') }}

),

task_progress as (

    select * from {{ ref('fct_task_progress') }}

),

assigned as (

    select
        expected.period_code,
        tasks.task_group_code,
        count(*) as tasks_assigned,
        count(*) filter (where {{ task_has_end('tasks.timing', 'tasks.deadline') }})
            as tasks_with_end,
        count(*) filter (where not {{ task_has_end('tasks.timing', 'tasks.deadline') }})
            as ongoing_tasks

    from expected
    inner join assignments
        on assignments.unit_code = expected.unit_code
        and assignments.programme_code = expected.programme_code
    inner join tasks
        on tasks.task_code = assignments.task_code
    group by expected.period_code, tasks.task_group_code

),

reported as (

    select
        period_code,
        task_group_code,
        count(*) filter (where progress_code is not null) as tasks_reported,
        count(*) filter (where progress_code = 'hoan_thanh') as tasks_with_end_done,
        count(*) filter (where progress_code = 'dang_trien_khai') as tasks_in_progress,
        count(*) filter (where progress_code = 'chua_trien_khai') as tasks_not_started,
        count(*) filter (where not has_end and progress_code is not null)
            as ongoing_tasks_reported,
        count(*) filter (where progress_code = 'dang_thuc_hien_thuong_xuyen')
            as ongoing_tasks_active,
        count(*) filter (
            where progress_code = 'dang_thuc_hien_thuong_xuyen' and result_text is not null
        ) as ongoing_tasks_with_result

    from task_progress
    group by period_code, task_group_code

),

final as (

    select
        periods.programme_code,
        periods.period_code,
        task_groups.task_group_code,
        task_groups.task_group_no,
        task_groups.task_group_name,
        coalesce(assigned.tasks_assigned, 0) as tasks_assigned,
        coalesce(reported.tasks_reported, 0) as tasks_reported,
        coalesce(assigned.tasks_with_end, 0) as tasks_with_end,
        coalesce(reported.tasks_with_end_done, 0) as tasks_with_end_done,
        coalesce(reported.tasks_in_progress, 0) as tasks_in_progress,
        coalesce(reported.tasks_not_started, 0) as tasks_not_started,
        {{ safe_rate('coalesce(reported.tasks_with_end_done, 0)', 'assigned.tasks_with_end') }}
            as task_done_rate,
        coalesce(assigned.ongoing_tasks, 0) as ongoing_tasks,
        coalesce(reported.ongoing_tasks_reported, 0) as ongoing_tasks_reported,
        coalesce(reported.ongoing_tasks_active, 0) as ongoing_tasks_active,
        coalesce(reported.ongoing_tasks_with_result, 0) as ongoing_tasks_with_result

    from periods
    inner join task_groups
        on task_groups.programme_code = periods.programme_code
    left join assigned
        on assigned.period_code = periods.period_code
        and assigned.task_group_code = task_groups.task_group_code
    left join reported
        on reported.period_code = periods.period_code
        and reported.task_group_code = task_groups.task_group_code

)

select * from final
