-- In the catalogue, an assignment links a task and a unit of its own programme, and an
-- indicator assignment an indicator and a unit of its own programme.

with

tasks as (select * from {{ ref('stg_catalogue__tasks') }}),

units as (select * from {{ ref('stg_catalogue__units') }}),

indicators as (select * from {{ ref('stg_catalogue__indicators') }}),

task_groups as (select * from {{ ref('stg_catalogue__task_groups') }}),

periods as (select * from {{ ref('int_periods') }}),

problems as (

    select
        'assignment' as kind,
        assignments.task_code as code,
        assignments.unit_code
    from {{ ref('stg_catalogue__assignments') }} as assignments
    left join tasks on tasks.task_code = assignments.task_code
    left join units on units.unit_code = assignments.unit_code
    where tasks.programme_code is distinct from assignments.programme_code
        or units.programme_code is distinct from assignments.programme_code

    union all

    select
        'indicator_assignment' as kind,
        indicator_assignments.indicator_code as code,
        indicator_assignments.unit_code
    from {{ ref('stg_catalogue__indicator_assignments') }} as indicator_assignments
    left join indicators on indicators.indicator_code = indicator_assignments.indicator_code
    left join units on units.unit_code = indicator_assignments.unit_code
    where indicators.programme_code is distinct from indicator_assignments.programme_code
        or units.programme_code is distinct from indicator_assignments.programme_code

    union all

    select
        'task_group' as kind,
        tasks.task_code as code,
        null as unit_code
    from tasks
    left join task_groups on task_groups.task_group_code = tasks.task_group_code
    where task_groups.programme_code is distinct from tasks.programme_code

    union all

    select
        'indicator_task' as kind,
        indicators.indicator_code as code,
        null as unit_code
    from indicators
    left join tasks on tasks.task_code = indicators.task_code
    where tasks.programme_code is distinct from indicators.programme_code

    union all

    select
        'period_window' as kind,
        periods.period_code as code,
        null as unit_code
    from periods
    where periods.data_from > periods.data_to

)

select * from problems
