{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['sheet_version_id', 'unit_code'], 'unique': True},
            {'columns': ['period_code', 'unit_code']},
        ],
        pre_hook="{{ history_touch('partition', reviewed=true) }}",
        post_hook="{{ history_record(reviewed=true) }}",
    )
}}
-- analyze as soon as built in full (post_hook history_record, here and in the other
-- intermediate tables): a table created in this run has no statistics yet, and the models
-- joining it next got nested-loop plans growing with the square of the units
-- (agg_data_quality_by_rule: 10 s at 800 units, 1.6 s with statistics; see docs/benchmarks.md)

{%- set requires_no_errors = var('completion_requires_no_errors', true)
    | string | lower in ['true', '1', 'yes'] %}

-- One row per report = one unit's part of one spreadsheet version (sheet_version_id, unit_code),
-- received by the as_of_date, with its validation outcome and its place among the unit's versions
-- for the period. When the period requires review, also where the version stands with its
-- reviewers (int_report_approvals: the approval rule) and whether its figures may count.
--
-- Incremental (macros/history.sql): a build computes again every version of the (period, unit)
-- pairs with a report it has not taken in, or received between the day it was last built for
-- and its as_of_date, or with a reviewer's decision it has not taken in or made between those
-- two days (history_touch's reviewed); the other pairs keep their rows, which neither changes.

with

-- the received-time rule, defined once
received as (

    {% if is_incremental() -%}
        {{ history_touched_rows(history_input('int_report_received')) }}
    {%- else -%}
        select * from {{ ref('int_report_received') }}
    {%- endif %}

),

sheet_versions as (

    select * from {{ ref('stg_raw__sheet_versions') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

-- per report (from int_report_received, one row each), its header, latest run and current
-- issues, each through its index on (sheet_version_id, unit_code): a nested loop per report
-- (macros/history.sql, history_touched_rows)
reports as (

    select
        headers.sheet_version_id,
        headers.unit_code,
        headers.period_code,
        periods.programme_code,
        headers.spreadsheet_id,
        latest_runs.validation_run_id,
        sheet_versions.fetched_at,
        sheet_versions.drive_modified_time,
        received.read_at,
        received.modified_after,
        received.read_bound,
        received.received_basis,
        received.received_at,
        headers.is_submitted,
        headers.has_content,
        issue_counts.error_count,
        issue_counts.warning_count,
        coalesce(issue_counts.is_blocked, false) as is_blocked,
        coalesce(review_levels.review_required, false) as review_required,
        review_levels.parent_reviewer_code,
        approvals.parent_decision,
        approvals.top_decision,
        coalesce(approvals.is_accepted, false) as is_accepted,
        approvals.returned_by,
        approvals.return_reason,
        approvals.returned_at

    from received
    cross join
        lateral (
            select headers.* from {{ ref('stg_parsed__report_headers') }} as headers
            where headers.sheet_version_id = received.sheet_version_id
                and headers.unit_code = received.unit_code
            -- one probe per row (macros/history.sql, history_touched_rows)
            offset 0  -- noqa: AM09
        ) as headers
    inner join sheet_versions
        on sheet_versions.sheet_version_id = headers.sheet_version_id
    left join periods
        on periods.period_code = headers.period_code
    cross join
        lateral (
            select latest_runs.validation_run_id
            from {{ ref('int_report_latest_runs') }} as latest_runs
            where latest_runs.sheet_version_id = headers.sheet_version_id
                and latest_runs.unit_code = headers.unit_code
            -- one probe per row (macros/history.sql, history_touched_rows)
            offset 0  -- noqa: AM09
        ) as latest_runs
    cross join
        lateral (
            select
                count(*) filter (where current_issues.is_error) as error_count,
                count(*) filter (where current_issues.is_warning) as warning_count,
                bool_or(current_issues.blocks_version) as is_blocked
            from {{ ref('int_current_validation_issues') }} as current_issues
            where current_issues.sheet_version_id = headers.sheet_version_id
                and current_issues.unit_code = headers.unit_code
            -- one probe per row (macros/history.sql, history_touched_rows)
            offset 0  -- noqa: AM09
        ) as issue_counts
    -- review (issue 24): who reviews the report, and what they decided on this version, each
    -- through its index (one probe per row)
    left join lateral (
        select
            review_levels.review_required,
            review_levels.parent_reviewer_code
        from {{ ref('int_review_levels') }} as review_levels
        where review_levels.period_code = headers.period_code
            and review_levels.unit_code = headers.unit_code
        offset 0  -- noqa: AM09
    ) as review_levels on true
    left join lateral (
        select approvals.*
        from {{ ref('int_report_approvals') }} as approvals
        where approvals.sheet_version_id = headers.sheet_version_id
            and approvals.unit_code = headers.unit_code
        offset 0  -- noqa: AM09
    ) as approvals on true

),

received_by_as_of_date as (

    select
        *,
        {{ local_date('received_at') }} as received_on

    from reports
    where {{ local_date('received_at') }} <= {{ as_of_date() }}

),

flagged as (

    select
        *,
        is_submitted and not is_blocked as is_usable,
        (
            is_submitted
            and not is_blocked
            {%- if requires_no_errors %}
                and error_count = 0
            {%- endif %}
        ) as is_complete

    from received_by_as_of_date

),

reviewed as (

    select
        *,
        -- a valid version's figures may count: at once, or once accepted when the period
        -- requires review (int_report_approvals: the approval rule)
        is_complete and (not review_required or is_accepted) as is_countable,
        -- where a version stands with its reviewers (null when the period requires no review)
        case
            when not review_required then null
            when is_accepted then 'da_chap_nhan'
            when returned_by is not null then 'bi_tra_lai'
            when parent_reviewer_code is not null and parent_decision is null
                then 'cho_cap_tren_duyet'
            else 'cho_duyet'
        end as review_state

    from flagged

),

numbered as (

    select
        sheet_version_id,
        unit_code,
        period_code,
        programme_code,
        spreadsheet_id,
        validation_run_id,
        fetched_at,
        drive_modified_time,
        read_at,
        modified_after,
        read_bound,
        received_basis,
        received_at,
        received_on,
        is_submitted,
        has_content,
        error_count,
        warning_count,
        is_blocked,
        is_usable,
        is_complete,
        review_required,
        parent_reviewer_code,
        parent_decision,
        top_decision,
        is_accepted,
        is_countable,
        review_state,
        returned_by,
        return_reason,
        returned_at,
        row_number() over unit_period as version_number,
        count(*) over unit_period_all as version_count,
        row_number() over unit_period = count(*) over unit_period_all as is_latest,
        coalesce(
            sheet_version_id = max(case when is_usable then sheet_version_id end)
                over unit_period_all,
            false
        ) as is_latest_usable,
        coalesce(
            sheet_version_id = min(case when is_complete then sheet_version_id end)
                over unit_period_all,
            false
        ) as is_first_complete,
        -- the version whose figures count (see fct_submission: the one rule for which rows
        -- count): the latest valid one, or, when the period requires review, the latest accepted
        coalesce(
            sheet_version_id = max(case when is_countable then sheet_version_id end)
                over unit_period_all,
            false
        ) as is_latest_complete,
        -- the latest valid version (the one a reviewer has to decide on, when it is not the
        -- counted one)
        coalesce(
            sheet_version_id = max(case when is_complete then sheet_version_id end)
                over unit_period_all,
            false
        ) as is_latest_valid

    from reviewed
    window
        unit_period as (partition by unit_code, period_code order by sheet_version_id),
        unit_period_all as (partition by unit_code, period_code)

)

select * from numbered
