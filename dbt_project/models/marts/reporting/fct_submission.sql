-- One row per expected report (period x unit): its one submission state, was it received, on
-- time, and is it clean. Only versions received by the as_of_date count (see
-- int_report_versions). The unit is named as it was on the due date (unit_version_key ->
-- dim_unit_history).
--
-- THE RULE FOR WHICH REPORTS AND ROWS COUNT (every figure reads it from here: agg_reporting_rate,
-- agg_province_summary, agg_indicator_totals through valid_rows, the summary sheet, the report, the
-- reminder list). A unit's report counts (is_counted) when it has a valid version: "Đã nộp"
-- switched on, not blocked (wrong unit or period), no error. Its timeliness is that of its
-- first valid version (a correction after the deadline does not make an on-time report late);
-- its figures are those of its latest valid version (counted_sheet_version_id: a correction
-- replaces them), without rows marked as errors. A report that is not counted adds nothing to
-- any total and is on the reminder list, with its state as the reason.
--
-- WHEN THE PERIOD REQUIRES REVIEW (periods.csv review_required; the approval rule is
-- int_report_approvals'), a valid version counts only once its reviewers accepted it: the report
-- counts when it has an accepted version, its figures are its latest accepted version's (an edit
-- after acceptance is a new version awaiting review while the accepted one keeps counting), its
-- timeliness still that of its first valid version (the unit sent a valid report then; a return
-- does not make it late). A valid report not accepted yet is 'cho_duyet' (awaiting its parent
-- unit or the Sở), or 'bi_tra_lai' when its latest valid version was returned (the reason is
-- told to the unit). Without review, approval_state and the review columns are null.

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

latest_complete_versions as (

    select * from report_versions
    where is_latest_complete

),

-- review (issue 24): who reviews the report, and its latest valid version's standing
review_levels as (

    select * from {{ ref('int_review_levels') }}

),

latest_valid_versions as (

    select * from report_versions
    where is_latest_valid

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
        first_complete_versions.received_at as first_valid_received_at,
        first_complete_versions.received_on as first_valid_received_on,
        first_complete_versions.sheet_version_id as first_complete_sheet_version_id,
        coalesce(latest_versions.version_count, 0) as version_count,
        latest_versions.sheet_version_id as latest_sheet_version_id,
        latest_versions.received_at as latest_received_at,
        latest_versions.is_submitted as latest_is_submitted,
        latest_versions.is_blocked as latest_is_blocked,
        latest_versions.error_count as latest_error_count,
        latest_versions.warning_count as latest_warning_count,
        -- whether the unit wrote anything in its latest version (a blank sheet as provisioned:
        -- no): stored by validation, defined once (ingest.parse.ParsedReport.has_content)
        coalesce(latest_versions.has_content, false) as latest_has_content,
        latest_complete_versions.sheet_version_id as counted_sheet_version_id,
        coalesce(review_levels.review_required, false) as review_required,
        review_levels.parent_reviewer_code,
        latest_valid_versions.sheet_version_id as latest_valid_sheet_version_id,
        latest_valid_versions.version_number as latest_valid_version_number,
        latest_valid_versions.review_state as latest_valid_review_state,
        latest_valid_versions.returned_by as latest_valid_returned_by,
        latest_valid_versions.return_reason as latest_valid_return_reason,
        latest_valid_versions.returned_at as latest_valid_returned_at

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
    left join latest_complete_versions
        on latest_complete_versions.period_code = expected.period_code
        and latest_complete_versions.unit_code = expected.unit_code
    left join review_levels
        on review_levels.period_code = expected.period_code
        and review_levels.unit_code = expected.unit_code
    left join latest_valid_versions
        on latest_valid_versions.period_code = expected.period_code
        and latest_valid_versions.unit_code = expected.unit_code

),

counted as (

    select
        *,
        -- received: counted (a version whose figures count), at its first valid version's time
        case
            when counted_sheet_version_id is not null then first_valid_received_at
        end as received_at,
        case
            when counted_sheet_version_id is not null then first_valid_received_on
        end as received_on

    from joined

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
        -- the one submission state of the report (see the rule at the top)
        case
            when received_on is not null
                and date_trunc('second', received_at) <= on_time_until then 'hop_le_dung_han'
            when received_on is not null then 'hop_le_tre_han'
            -- valid, not accepted yet (only when the period requires review)
            when latest_valid_review_state = 'bi_tra_lai' then 'bi_tra_lai'
            when latest_valid_sheet_version_id is not null then 'cho_duyet'
            when latest_sheet_version_id is null then 'chua_co_bang'
            when latest_is_submitted then 'con_loi'
            when latest_has_content then 'chua_chon_da_nop'
            else 'chua_dien'
        end as submission_state,
        case
            when latest_sheet_version_id is null then 'chua_co_bang'
            when latest_error_count > 0 or latest_is_blocked then 'co_loi'
            else 'hop_le'
        end as validation_status,
        -- where the report stands with its reviewers (null without review)
        case
            when not review_required then null
            when received_on is not null then 'da_chap_nhan'
            when latest_valid_sheet_version_id is null then 'chua_co_ban_hop_le'
            else latest_valid_review_state
        end as approval_state

    from counted

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
        submission_state,
        {{ submission_state_label_vi('submission_state') }} as submission_state_vi,
        received_on is not null as is_counted,
        counted_sheet_version_id,
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
        latest_has_content,
        validation_status,
        {{ validation_status_label_vi('validation_status') }} as validation_status_vi,
        review_required,
        parent_reviewer_code,
        approval_state,
        {{ approval_state_label_vi('approval_state') }} as approval_state_vi,
        latest_valid_sheet_version_id,
        latest_valid_version_number,
        -- a valid version newer than the accepted one, not decided yet: an edit after
        -- acceptance, awaiting review while the accepted version keeps counting
        coalesce(
            review_required
            and received_on is not null
            and latest_valid_sheet_version_id > counted_sheet_version_id
            and latest_valid_review_state <> 'bi_tra_lai',
            false
        ) as has_version_awaiting_review,
        -- who returned the latest valid version, why and when (reviewer code: 'tong_hop' for
        -- the Sở, else the parent unit's code); null unless it was returned
        case when latest_valid_review_state = 'bi_tra_lai' then latest_valid_returned_by end
            as returned_by,
        case when latest_valid_review_state = 'bi_tra_lai' then latest_valid_return_reason end
            as return_reason,
        case when latest_valid_review_state = 'bi_tra_lai' then latest_valid_returned_at end
            as returned_at

    from statuses

)

select * from final
