-- Every row of the current facts comes from the counted version of its report, and is a row
-- of that version without an error (as the history marts record it), in the periods the
-- build wrote history of (history_scope).

with

task_facts as (

    select
        period_code,
        unit_code,
        sheet_version_id,
        row_key,
        'tasks' as part
    from {{ ref('fct_task_progress') }}
    where {{ history_scope() }}

),

indicator_facts as (

    select
        period_code,
        unit_code,
        sheet_version_id,
        row_key,
        'indicators' as part
    from {{ ref('fct_indicator_value') }}
    where {{ history_scope() }}

),

history as (

    select
        period_code,
        unit_code,
        sheet_version_id,
        row_key,
        'tasks' as part,
        is_counted_version,
        has_error
    from {{ ref('fct_task_progress_history') }}
    where {{ history_scope() }}
    union all
    select
        period_code,
        unit_code,
        sheet_version_id,
        row_key,
        'indicators' as part,
        is_counted_version,
        has_error
    from {{ ref('fct_indicator_value_history') }}
    where {{ history_scope() }}

),

facts as (

    select * from task_facts
    union all
    select * from indicator_facts

)

select facts.*
from facts
left join history
    on history.sheet_version_id = facts.sheet_version_id
    and history.unit_code = facts.unit_code
    and history.row_key = facts.row_key
    and history.part = facts.part
where history.row_key is null
    or not history.is_counted_version
    or history.has_error
