{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[{'columns': ['period_code', 'unit_code']}],
        pre_hook="{{ history_touch('partition', reviewed=true) }}",
        post_hook="{{ history_record(reviewed=true) }}",
    )
}}

-- Every indicator row of every version of every report (lịch sử số liệu chỉ tiêu), with the
-- verdict of validation on the row and whether its version is the one the marts count, as of the
-- build. A table like every mart, not a view, and incremental: see fct_task_progress_history.

with

report_versions as (

    {% if is_incremental() -%}
        {{ history_touched_rows(history_input('int_report_versions')) }}
    {%- else -%}
        select * from {{ ref('int_report_versions') }}
    {%- endif %}

),

final as (

    select
        checked_rows.programme_code,
        checked_rows.period_code,
        checked_rows.unit_code,
        checked_rows.sheet_version_id,
        report_versions.version_number,
        report_versions.received_at,
        report_versions.is_latest_complete as is_counted_version,
        checked_rows.row_key,
        checked_rows.indicator_code,
        checked_rows.value_text,
        checked_rows.value_number,
        checked_rows.value_reading,
        checked_rows.note_text,
        checked_rows.has_error,
        checked_rows.has_warning,
        array_to_string(checked_rows.rule_codes, ', ') as rule_codes

    from report_versions
    cross join lateral (
        select checked_rows.* from {{ ref('int_indicator_rows_checked') }} as checked_rows
        where checked_rows.sheet_version_id = report_versions.sheet_version_id
            and checked_rows.unit_code = report_versions.unit_code
            and checked_rows.period_code = report_versions.period_code
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as checked_rows

)

select * from final
