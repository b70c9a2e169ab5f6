-- Every task row of every version of every report (lịch sử tiến độ nhiệm vụ), with the verdict
-- of validation on the row and whether its version is the one the marts count, as of the
-- build. A table like every mart, not a view: a view depends on the intermediate views it reads,
-- and dbt replaces those with a drop ... cascade on every build, which would take this mart
-- away from BI until the build recreates it (tests/test_bi_consistency.py).

with

checked_rows as (

    select * from {{ ref('int_task_rows_checked') }}

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
        checked_rows.task_code,
        checked_rows.status_code,
        {{ status_label_vi('checked_rows.status_code') }} as status_vi,
        checked_rows.result_text,
        checked_rows.completed_on,
        checked_rows.evidence_text,
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
