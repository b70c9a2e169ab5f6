-- One row per expected report (period x unit): was it received, on time, and is it clean.
-- Only versions received by the as_of_date count (see int_report_versions). The unit is named
-- as it was on the due date (unit_version_key -> dim_unit_history).

with

expected as (

    select * from {{ ref('int_expected_reports') }}

),

report_versions as (

    select * from {{ ref('int_report_versions') }}

),

latest_versions as (

    select * from report_versions
    where is_latest

),

unit_versions as (

    select * from {{ ref('int_unit_versions') }}

),

first_complete_versions as (

    select * from report_versions
    where is_first_complete

),

joined as (

    select
        expected.programme_code,
        expected.period_code,
        expected.unit_code,
        unit_versions.unit_version_key,
        unit_versions.unit_name as unit_name_at_period,
        -- the type the unit had on the due date (a xã that became a phường stays a xã in the
        -- periods before), so rates by unit type do not move when the catalogue changes
        coalesce(unit_versions.unit_type, expected.unit_type) as unit_type,
        expected.due_date,
        expected.on_time_until,
        {{ local_date('expected.on_time_until') }} as last_on_time_day,
        {{ as_of_date() }} as as_of_date,
        first_complete_versions.received_at,
        first_complete_versions.received_on,
        first_complete_versions.sheet_version_id as first_complete_sheet_version_id,
        coalesce(latest_versions.version_count, 0) as version_count,
        latest_versions.sheet_version_id as latest_sheet_version_id,
        latest_versions.received_at as latest_received_at,
        latest_versions.is_submitted as latest_is_submitted,
        latest_versions.is_blocked as latest_is_blocked,
        latest_versions.error_count as latest_error_count,
        latest_versions.warning_count as latest_warning_count

    from expected
    left join unit_versions
        on unit_versions.unit_code = expected.unit_code
        and {{ in_force_on('unit_versions', 'expected.due_date') }}
    left join latest_versions
        on latest_versions.period_code = expected.period_code
        and latest_versions.unit_code = expected.unit_code
    left join first_complete_versions
        on first_complete_versions.period_code = expected.period_code
        and first_complete_versions.unit_code = expected.unit_code

),

statuses as (

    select
        *,
        case
            when received_on is null then 'missing'
            -- the one on-time rule: received at or before the catalogue's last on-time moment
            -- (stated to the second, so a fraction of its last second is still on time)
            when date_trunc('second', received_at) <= on_time_until then 'on_time'
            else 'late'
        end as reporting_status,
        case
            when latest_sheet_version_id is null then 'chua_co_bang'
            when latest_error_count > 0 or latest_is_blocked then 'co_loi'
            else 'hop_le'
        end as validation_status

    from joined

),

final as (

    select
        programme_code,
        period_code,
        unit_code,
        unit_version_key,
        unit_name_at_period,
        unit_type,
        due_date,
        on_time_until,
        as_of_date,
        received_at,
        reporting_status,
        {{ reporting_status_label_vi('reporting_status') }} as reporting_status_vi,
        case reporting_status
            when 'on_time' then 0
            when 'late' then greatest(received_on - last_on_time_day, 1)
            else greatest(as_of_date - last_on_time_day, 0)
        end as days_late,
        reporting_status = 'missing' and as_of_date > last_on_time_day as is_overdue,
        first_complete_sheet_version_id,
        version_count,
        latest_sheet_version_id,
        latest_received_at,
        latest_is_submitted,
        latest_is_blocked,
        latest_error_count,
        latest_warning_count,
        validation_status,
        {{ validation_status_label_vi('validation_status') }} as validation_status_vi

    from statuses

)

select * from final
