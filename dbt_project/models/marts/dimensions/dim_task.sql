with

tasks as (

    select * from {{ ref('stg_catalogue__tasks') }}

),

task_groups as (

    select * from {{ ref('stg_catalogue__task_groups') }}

),

assignments as (

    select * from {{ ref('stg_catalogue__assignments') }}

),

assignment_counts as (

    select
        task_code,
        count(*) as assigned_unit_count,
        count(*) filter (where role = 'chu_tri') as lead_unit_count,
        count(*) filter (where role = 'phoi_hop') as cooperating_unit_count

    from assignments
    group by task_code

),

final as (

    select
        tasks.programme_code,
        tasks.task_code,
        tasks.task_group_code,
        task_groups.task_group_no,
        task_groups.task_group_name,
        tasks.task_no,
        tasks.task_text,
        tasks.task_text_source,
        tasks.timing,
        {{ timing_label_vi('tasks.timing') }} as timing_vi,
        tasks.deadline,
        -- only a task with an end (hằng năm, or a deadline) can be completed
        {{ task_has_end('tasks.timing', 'tasks.deadline') }} as has_end,
        tasks.source_ref,
        coalesce(assignment_counts.assigned_unit_count, 0) as assigned_unit_count,
        coalesce(assignment_counts.lead_unit_count, 0) as lead_unit_count,
        coalesce(assignment_counts.cooperating_unit_count, 0) as cooperating_unit_count

    from tasks
    left join task_groups
        on task_groups.task_group_code = tasks.task_group_code
    left join assignment_counts
        on assignment_counts.task_code = tasks.task_code

)

select * from final
