-- The incremental int_*_rows_checked models hold every parsed row, each with the verdict of its
-- report's latest validation run: nothing missed by an incremental build, nothing stale, no
-- row that is not parsed — in the periods the build wrote history of (history_scope).

{% set parts = [
    ('stg_parsed__task_rows', 'int_task_rows_checked'),
    ('stg_parsed__indicator_rows', 'int_indicator_rows_checked'),
    ('stg_parsed__feedback_rows', 'int_feedback_rows_checked'),
] %}

with

latest_runs as (

    select * from {{ ref('int_report_latest_runs') }}
    where {{ history_scope() }}

),

{% for parsed_model, checked_model in parts %}
    {{ checked_model }}_parsed as (

        select * from {{ ref(parsed_model) }}
        where {{ history_scope() }}

    ),

    {{ checked_model }}_in_scope as (

        select * from {{ ref(checked_model) }}
        where {{ history_scope() }}

    ),

    {{ checked_model }}_gaps as (

        select
            '{{ checked_model }}' as model_name,
            coalesce(parsed.sheet_version_id, checked_rows.sheet_version_id) as sheet_version_id,
            coalesce(parsed.unit_code, checked_rows.unit_code) as unit_code,
            coalesce(parsed.row_key, checked_rows.row_key) as row_key,
            case
                when checked_rows.row_key is null then 'missing'
                when parsed.row_key is null then 'not parsed'
                else 'stale verdict'
            end as problem

        from {{ checked_model }}_parsed as parsed
        full outer join {{ checked_model }}_in_scope as checked_rows
            on checked_rows.sheet_version_id = parsed.sheet_version_id
            and checked_rows.unit_code = parsed.unit_code
            and checked_rows.row_key = parsed.row_key
        left join latest_runs
            on latest_runs.sheet_version_id = checked_rows.sheet_version_id
            and latest_runs.unit_code = checked_rows.unit_code
        where checked_rows.row_key is null
            or parsed.row_key is null
            or checked_rows.validation_run_id is distinct from latest_runs.validation_run_id

    ){% if not loop.last %},{% endif %}
{% endfor %}

{% for parsed_model, checked_model in parts %}
    select * from {{ checked_model }}_gaps
    {% if not loop.last %}union all{% endif %}
{% endfor %}
