{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['sheet_version_id', 'unit_code']},
        ],
        post_hook='analyze {{ this }}',
    )
}}

-- THE APPROVAL RULE (int_report_versions reads it for which version counts; fct_submission for
-- the report's approval state). Per version of a report that a reviewer decided on, by the
-- as_of_date: the decision that holds at each level - the report's parent (int_review_levels)
-- and the consolidating body ('tong_hop') - is the latest one made for that very version
-- (a decision for an earlier version never reaches a later one). A version is accepted when
-- the consolidating body accepted it and, where the report has a parent level, the parent did
-- too (the province sees a commune's report as accepted only once its district accepted it);
-- it is returned when either level returned it (the parent's return first).

with

decisions as (

    select * from {{ ref('int_review_decisions') }}
    where is_applicable
        and {{ local_date('decided_at') }} <= {{ as_of_date() }}

),

levels as (

    select * from {{ ref('int_review_levels') }}
    where review_required

),

latest as (

    select distinct on (period_code, reviewer_code, unit_code, sheet_version_id)
        period_code,
        reviewer_code,
        unit_code,
        sheet_version_id,
        decision_code,
        reason,
        decided_at

    from decisions
    order by
        period_code asc, reviewer_code asc, unit_code asc, sheet_version_id asc,
        decided_at desc, review_reading_id desc, row_number desc

),

pivoted as (

    select
        latest.period_code,
        latest.unit_code,
        latest.sheet_version_id,
        levels.parent_reviewer_code,
        max(latest.decision_code) filter (
            where latest.reviewer_code = levels.parent_reviewer_code
        ) as parent_decision,
        max(latest.reason) filter (
            where latest.reviewer_code = levels.parent_reviewer_code
        ) as parent_reason,
        max(latest.decided_at) filter (
            where latest.reviewer_code = levels.parent_reviewer_code
        ) as parent_decided_at,
        max(latest.decision_code) filter (where latest.reviewer_code = 'tong_hop') as top_decision,
        max(latest.reason) filter (where latest.reviewer_code = 'tong_hop') as top_reason,
        max(latest.decided_at) filter (where latest.reviewer_code = 'tong_hop') as top_decided_at

    from latest
    inner join levels
        on levels.period_code = latest.period_code
        and levels.unit_code = latest.unit_code
    where latest.reviewer_code in ('tong_hop', levels.parent_reviewer_code)
    group by
        latest.period_code, latest.unit_code, latest.sheet_version_id, levels.parent_reviewer_code

),

final as (

    select
        *,
        coalesce(
            top_decision = 'chap_nhan'
            and (parent_reviewer_code is null or parent_decision = 'chap_nhan'),
            false
        ) as is_accepted,
        case
            when parent_decision = 'tra_lai' then parent_reviewer_code
            when top_decision = 'tra_lai' then 'tong_hop'
        end as returned_by,
        case
            when parent_decision = 'tra_lai' then parent_reason
            when top_decision = 'tra_lai' then top_reason
        end as return_reason,
        case
            when parent_decision = 'tra_lai' then parent_decided_at
            when top_decision = 'tra_lai' then top_decided_at
        end as returned_at

    from pivoted

)

select * from final
