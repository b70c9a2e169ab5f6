-- Reporting rate as DHIS2 defines it (tỷ lệ báo cáo): expected reports, actual reports
-- (counted: fct_submission's rule - submitted, not rejected, no error), reporting rate, reports
-- on time, reporting rate on time - per period (hence per programme) and unit type, plus one
-- row per period for all unit types together (unit_type = 'tat_ca'). Each row also carries the
-- same figures of the previous period of the same kind. When the period requires review, the
-- reports counted are those accepted (DHIS2's "approved"): approved_reports and approval_rate
-- say so, awaiting_review_reports and returned_reports count the valid reports not accepted yet.

with

periods as (

    select * from {{ ref('dim_period') }}

),

submissions as (

    select * from {{ ref('fct_submission') }}

),

unit_types as (

    select * from {{ ref('stg_catalogue__unit_types') }}

),

counts as (

    select
        period_code,
        case when grouping(unit_type) = 1 then 'tat_ca' else unit_type end as unit_type,
        count(*) as expected_reports,
        -- fct_submission's rule: a report counts when it has a valid version
        count(*) filter (where is_counted) as actual_reports,
        count(*) filter (where submission_state = 'hop_le_dung_han') as on_time_reports,
        count(*) filter (where submission_state = 'hop_le_tre_han') as late_reports,
        count(*) filter (where not is_counted) as missing_reports,
        count(*) filter (where is_overdue) as overdue_reports,
        -- why the reports not counted are not: one state each, adding up to missing_reports
        count(*) filter (where submission_state = 'con_loi') as with_errors_reports,
        count(*) filter (where submission_state = 'chua_chon_da_nop') as not_submitted_reports,
        count(*) filter (where submission_state = 'chua_dien') as not_filled_reports,
        count(*) filter (where submission_state = 'chua_co_bang') as no_sheet_reports,
        -- review (issue 24): valid reports not accepted yet, by why
        count(*) filter (where submission_state = 'cho_duyet') as awaiting_review_reports,
        count(*) filter (where submission_state = 'bi_tra_lai') as returned_reports,
        bool_or(review_required) as review_required

    from submissions
    group by grouping sets ((period_code, unit_type), (period_code))

),

rates as (

    select
        *,
        {{ safe_rate('actual_reports', 'expected_reports') }} as reporting_rate,
        {{ safe_rate('on_time_reports', 'expected_reports') }} as on_time_rate,
        -- DHIS2's approved reports: the counted ones, when the period requires review
        case when review_required then actual_reports end as approved_reports,
        case
            when review_required then {{ safe_rate('actual_reports', 'expected_reports') }}
        end as approval_rate

    from counts

),

final as (

    select
        periods.programme_code,
        periods.period_code,
        periods.period_name,
        periods.period_kind,
        periods.due_date,
        {{ as_of_date() }} as as_of_date,
        rates.unit_type,
        coalesce(unit_types.unit_type_name, 'Tất cả loại đơn vị') as unit_type_name,
        rates.expected_reports,
        rates.actual_reports,
        rates.reporting_rate,
        rates.on_time_reports,
        rates.on_time_rate,
        rates.late_reports,
        rates.missing_reports,
        rates.overdue_reports,
        rates.with_errors_reports,
        rates.not_submitted_reports,
        rates.not_filled_reports,
        rates.no_sheet_reports,
        coalesce(rates.review_required, false) as review_required,
        rates.awaiting_review_reports,
        rates.returned_reports,
        rates.approved_reports,
        rates.approval_rate,
        periods.previous_period_code,
        previous.reporting_rate as previous_reporting_rate,
        rates.reporting_rate - previous.reporting_rate as reporting_rate_change,
        previous.on_time_rate as previous_on_time_rate,
        rates.on_time_rate - previous.on_time_rate as on_time_rate_change

    from rates
    inner join periods
        on periods.period_code = rates.period_code
    left join unit_types
        on unit_types.unit_type = rates.unit_type
    left join rates as previous
        on previous.period_code = periods.previous_period_code
        and previous.unit_type = rates.unit_type

)

select * from final
