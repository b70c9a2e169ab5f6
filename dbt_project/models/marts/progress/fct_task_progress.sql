{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ history_touch('partition', reviewed=true) }}",
        post_hook="{{ history_record(reviewed=true) }}",
    )
}}

-- Progress of each task as reported by each unit for a period (unit x task x period), from the
-- valid rows of the unit's latest valid version. Only expected reports and tasks of the
-- programme's catalogue; when a task appears on several rows, the first row counts.
-- progress_code reads the status by the task's timing: an ongoing task (thường xuyên) reports
-- "đang thực hiện thường xuyên" and its results, never a completion; only tasks with an end
-- (has_end) can be "hoàn thành". includes_estimate: the period's figures from estimated_from to
-- estimated_to are estimates (ước thực hiện).
-- Incremental (macros/history.sql): a build writes again the rows of the (period, unit) pairs
-- that changed since it last ran (a new version, a new check, the day it is built for, a
-- reviewer's decision).

with

valid_rows as (

    {% if is_incremental() -%}
        {{ valid_rows('int_task_rows_checked', report_versions=history_touched_rows(
            history_input('int_report_versions'))) }}
    {%- else -%}
        select * from {{ ref('int_valid_task_rows') }}
    {%- endif %}

),

expected as (

    select * from {{ ref('int_expected_reports') }}

),

tasks as (

    select * from {{ ref('stg_catalogue__tasks') }}

),

assignments as (

    select * from {{ ref('stg_catalogue__assignments') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

ranked as (

    select
        valid_rows.*,
        tasks.task_group_code,
        tasks.timing,
        {{ task_has_end('tasks.timing', 'tasks.deadline') }} as has_end,
        row_number() over (
            partition by valid_rows.period_code, valid_rows.unit_code, valid_rows.task_code
            order by valid_rows.row_number, valid_rows.row_key
        ) as row_rank

    from valid_rows
    inner join expected
        on expected.period_code = valid_rows.period_code
        and expected.unit_code = valid_rows.unit_code
    inner join tasks
        on tasks.task_code = valid_rows.task_code
        and tasks.programme_code = valid_rows.programme_code

),

final as (

    select
        ranked.programme_code,
        ranked.period_code,
        ranked.unit_code,
        ranked.task_code,
        ranked.task_group_code,
        assignments.role,
        {{ role_label_vi('assignments.role') }} as role_vi,
        ranked.timing,
        ranked.has_end,
        ranked.status_code,
        {{ status_label_vi('ranked.status_code') }} as status_vi,
        {{ task_progress_code('ranked.status_code', 'ranked.has_end') }} as progress_code,
        {{ status_label_vi(task_progress_code('ranked.status_code', 'ranked.has_end')) }}
            as progress_vi,
        ranked.result_text,
        ranked.completed_on,
        ranked.evidence_text,
        ranked.note_text,
        ranked.sheet_version_id,
        ranked.row_key,
        ranked.has_warning,
        periods.has_estimate as includes_estimate,
        periods.estimated_from,
        periods.estimated_to

    from ranked
    inner join periods
        on periods.period_code = ranked.period_code
    left join assignments
        on assignments.task_code = ranked.task_code
        and assignments.unit_code = ranked.unit_code
    where ranked.row_rank = 1

)

select * from final
