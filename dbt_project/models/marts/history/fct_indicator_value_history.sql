-- Every indicator row of every version of every report (lịch sử số liệu chỉ tiêu), with the
-- verdict of validation on the row and whether its version is the one the marts count, as of the
-- build. A table like every mart, not a view: see fct_task_progress_history.

with

checked_rows as (

    select * from {{ ref('int_indicator_rows_checked') }}

),

report_versions as (

    select * from {{ ref('int_report_versions') }}

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

    from checked_rows
    inner join report_versions
        on report_versions.sheet_version_id = checked_rows.sheet_version_id
        and report_versions.unit_code = checked_rows.unit_code
        and report_versions.period_code = checked_rows.period_code

)

select * from final
