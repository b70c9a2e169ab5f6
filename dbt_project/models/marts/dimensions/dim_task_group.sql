-- Task groups of each programme (nhóm nhiệm vụ), with how many tasks and assigned units they have.

with

task_groups as (

    select * from {{ ref('stg_catalogue__task_groups') }}

),

tasks as (

    select * from {{ ref('stg_catalogue__tasks') }}

),

assignments as (

    select * from {{ ref('stg_catalogue__assignments') }}

),

task_counts as (

    select
        tasks.task_group_code,
        count(distinct tasks.task_code) as task_count,
        count(distinct assignments.unit_code) as assigned_unit_count

    from tasks
    left join assignments
        on assignments.task_code = tasks.task_code
    group by tasks.task_group_code

),

final as (

    select
        task_groups.programme_code,
        task_groups.task_group_code,
        task_groups.task_group_no,
        task_groups.task_group_name,
        coalesce(task_counts.task_count, 0) as task_count,
        coalesce(task_counts.assigned_unit_count, 0) as assigned_unit_count

    from task_groups
    left join task_counts
        on task_counts.task_group_code = task_groups.task_group_code

)

select * from final
