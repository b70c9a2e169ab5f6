{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ history_touch('partition', reviewed=true) }}",
        post_hook="{{ history_record(reviewed=true) }}",
    )
}}

-- Difficulties and recommendations (khó khăn, kiến nghị) written by each unit for a period, from
-- the valid rows of the unit's latest valid version that have content. Only expected reports.
-- Incremental (macros/history.sql): a build writes again the rows of the (period, unit) pairs
-- that changed since it last ran (a new version, a new check, the day it is built for, a
-- reviewer's decision).

with

counted_rows as (

    {% if is_incremental() -%}
        {{ valid_rows('int_feedback_rows_checked', report_versions=history_touched_rows(
            history_input('int_report_versions'))) }}
    {%- else -%}
        select * from {{ ref('int_valid_feedback_rows') }}
    {%- endif %}

),

valid_rows as (

    select * from counted_rows
    where nullif(trim(content_text), '') is not null

),

expected as (

    select * from {{ ref('int_expected_reports') }}

),

final as (

    select
        valid_rows.programme_code,
        valid_rows.period_code,
        valid_rows.unit_code,
        valid_rows.row_key,
        valid_rows.row_number,
        valid_rows.feedback_kind,
        {{ feedback_kind_label_vi('valid_rows.feedback_kind') }} as feedback_kind_vi,
        valid_rows.content_text,
        valid_rows.sheet_version_id,
        valid_rows.has_warning

    from valid_rows
    inner join expected
        on expected.period_code = valid_rows.period_code
        and expected.unit_code = valid_rows.unit_code

)

select * from final
