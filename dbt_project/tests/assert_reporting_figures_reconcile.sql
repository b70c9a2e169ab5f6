-- Every published figure follows fct_submission's one rule for which reports and rows count,
-- so they reconcile with each other, in the periods the build wrote history of (var history_scope:
-- a build tests what it wrote). One row per disagreement, naming it:
--   1. the submission states add up: expected = counted + not counted, counted = on time + late,
--      and agg_reporting_rate and agg_province_summary give the same numbers as fct_submission;
--   2. a report's counted version is the one fct_report_version marks as counted, and every
--      fact row (tasks, indicators, feedback) comes from a counted report's counted version;
--   3. agg_indicator_totals: the reporting units and the total of each indicator are those of the
--      counted reports' values, and never more units than the counted reports assigned it.

with

submissions as (

    select * from {{ ref('fct_submission') }}
    where {{ history_scope() }}

),

state_counts as (

    select
        period_code,
        count(*) as expected_reports,
        count(*) filter (where is_counted) as counted,
        count(*) filter (where submission_state = 'hop_le_dung_han') as on_time,
        count(*) filter (where submission_state = 'hop_le_tre_han') as late,
        count(*) filter (where submission_state = 'con_loi') as with_errors,
        count(*) filter (where submission_state = 'chua_chon_da_nop') as not_submitted,
        count(*) filter (where submission_state = 'chua_dien') as not_filled,
        count(*) filter (where submission_state = 'chua_co_bang') as no_sheet,
        count(*) filter (where submission_state = 'cho_duyet') as awaiting_review,
        count(*) filter (where submission_state = 'bi_tra_lai') as returned

    from submissions
    group by period_code

),

rates as (

    select * from {{ ref('agg_reporting_rate') }}
    where unit_type = 'tat_ca'

),

summary as (

    select * from {{ ref('agg_province_summary') }}

),

counts_disagree as (

    select
        state_counts.period_code,
        'state counts vs agg_reporting_rate/agg_province_summary' as figure
    from state_counts
    left join rates on rates.period_code = state_counts.period_code
    left join summary on summary.period_code = state_counts.period_code
    where
        state_counts.expected_reports <> (
            state_counts.on_time + state_counts.late + state_counts.with_errors
            + state_counts.not_submitted + state_counts.not_filled + state_counts.no_sheet
            + state_counts.awaiting_review + state_counts.returned
        )
        or state_counts.counted <> state_counts.on_time + state_counts.late
        or rates.period_code is null
        or summary.period_code is null
        or (
            rates.expected_reports, rates.actual_reports, rates.on_time_reports,
            rates.late_reports, rates.missing_reports, rates.with_errors_reports,
            rates.not_submitted_reports, rates.not_filled_reports, rates.no_sheet_reports,
            rates.awaiting_review_reports, rates.returned_reports
        ) is distinct from (
            state_counts.expected_reports, state_counts.counted, state_counts.on_time,
            state_counts.late, state_counts.expected_reports - state_counts.counted,
            state_counts.with_errors, state_counts.not_submitted, state_counts.not_filled,
            state_counts.no_sheet, state_counts.awaiting_review, state_counts.returned
        )
        or (
            summary.expected_reports, summary.actual_reports, summary.on_time_reports,
            summary.late_reports, summary.missing_reports, summary.units_with_errors
        ) is distinct from (
            state_counts.expected_reports, state_counts.counted, state_counts.on_time,
            state_counts.late, state_counts.expected_reports - state_counts.counted,
            state_counts.with_errors
        )

),

counted_versions as (

    select
        period_code,
        unit_code,
        sheet_version_id
    from {{ ref('fct_report_version') }}
    where is_counted_version and {{ history_scope() }}

),

versions_disagree as (

    select
        submissions.period_code,
        'counted version of ' || submissions.unit_code as figure
    from submissions
    full join counted_versions
        on counted_versions.period_code = submissions.period_code
        and counted_versions.unit_code = submissions.unit_code
    where submissions.counted_sheet_version_id is distinct from counted_versions.sheet_version_id
        -- a counted version of a report not expected (a unit outside the plan) is not a figure
        and submissions.period_code is not null

),

fact_rows as (

    select
        period_code,
        unit_code,
        sheet_version_id,
        'tasks' as part
    from {{ ref('fct_task_progress') }}
    where {{ history_scope() }}
    union all
    select
        period_code,
        unit_code,
        sheet_version_id,
        'indicators' as part
    from {{ ref('fct_indicator_value') }}
    where {{ history_scope() }}
    union all
    select
        period_code,
        unit_code,
        sheet_version_id,
        'feedback' as part
    from {{ ref('fct_feedback') }}
    where {{ history_scope() }}

),

facts_disagree as (

    select distinct
        fact_rows.period_code,
        fact_rows.part || ' rows of ' || fact_rows.unit_code || ' not from its counted version'
            as figure
    from fact_rows
    left join submissions
        on submissions.period_code = fact_rows.period_code
        and submissions.unit_code = fact_rows.unit_code
    where submissions.counted_sheet_version_id is distinct from fact_rows.sheet_version_id

),

value_totals as (

    select
        period_code,
        indicator_code,
        sum(value_number) as total_value,
        count(distinct unit_code) as reporting_units

    from {{ ref('fct_indicator_value') }}
    where {{ history_scope() }}
    group by period_code, indicator_code

),

indicator_totals as (

    select * from {{ ref('agg_indicator_totals') }}
    where {{ history_scope() }}

),

counted_assigned as (

    select
        submissions.period_code,
        indicator_assignments.indicator_code,
        count(*) as counted_units

    from submissions
    inner join {{ ref('stg_catalogue__indicator_assignments') }} as indicator_assignments
        on indicator_assignments.unit_code = submissions.unit_code
        and indicator_assignments.programme_code = submissions.programme_code
    where submissions.is_counted
    group by submissions.period_code, indicator_assignments.indicator_code

),

totals_disagree as (

    select
        totals.period_code,
        'agg_indicator_totals of ' || totals.indicator_code as figure
    from indicator_totals as totals
    left join value_totals
        on value_totals.period_code = totals.period_code
        and value_totals.indicator_code = totals.indicator_code
    left join counted_assigned
        on counted_assigned.period_code = totals.period_code
        and counted_assigned.indicator_code = totals.indicator_code
    where totals.reporting_units <> coalesce(value_totals.reporting_units, 0)
        or totals.total_value is distinct from value_totals.total_value
        or totals.reporting_units > coalesce(counted_assigned.counted_units, 0)

)

select * from counts_disagree
union all
select * from versions_disagree
union all
select * from facts_disagree
union all
select * from totals_disagree
