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

-- Every task row of every version of every report (lịch sử tiến độ nhiệm vụ), with the verdict
-- of validation on the row and whether its version is the one the marts count, as of the
-- build. A table like every mart, not a view: a view depends on the intermediate views it reads,
-- and dbt replaces those with a drop ... cascade on every build, which would take this mart
-- away from BI until the build recreates it (tests/test_bi_consistency.py). Incremental
-- (macros/history.sql): a build writes again the rows of the (period, unit) pairs that changed
-- since it last ran (a new version, a new check, the day it is built for, a
-- reviewer's decision), in one transaction.

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

    from report_versions
    cross join lateral (
        select checked_rows.* from {{ ref('int_task_rows_checked') }} as checked_rows
        where checked_rows.sheet_version_id = report_versions.sheet_version_id
            and checked_rows.unit_code = report_versions.unit_code
            and checked_rows.period_code = report_versions.period_code
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as checked_rows

)

select * from final
