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

-- Every version of every unit's report (phiên bản báo cáo): one row per unit's part of one
-- spreadsheet version received by the as_of_date, numbered in order of arrival, with its
-- validation outcome and which version counts. The marts count the latest valid version
-- (is_counted_version); the earlier ones stay here, and their rows in the *_history marts.
-- Incremental (macros/history.sql): a build writes again the versions of the (period, unit)
-- pairs that changed since it last ran (a new version, a new check, the day it is built for, a
-- reviewer's decision).

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
        programme_code,
        period_code,
        unit_code,
        sheet_version_id,
        spreadsheet_id,
        version_number,
        version_count,
        received_at,
        received_on,
        -- the evidence behind received_at (int_report_received): what Drive listed, when
        -- Google answered the read, what Drive said right after it, and the rule that decided
        drive_modified_time as listed_modified_time,
        read_at,
        modified_after,
        read_bound,
        received_basis,
        fetched_at,
        validation_run_id,
        is_submitted,
        is_blocked,
        error_count,
        warning_count,
        case
            when is_blocked or error_count > 0 then 'co_loi'
            else 'hop_le'
        end as validation_status,
        {{ validation_status_label_vi(
            "case when is_blocked or error_count > 0 then 'co_loi' else 'hop_le' end"
        ) }} as validation_status_vi,
        is_usable,
        is_complete,
        is_latest as is_latest_version,
        is_latest_complete as is_counted_version,
        is_first_complete

    from report_versions

)

select * from final
