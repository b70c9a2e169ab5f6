-- The figures at each review level, by approval state (tổng hợp theo cấp duyệt): per period,
-- reviewer (a parent unit for its units, 'tong_hop' for the consolidating body) and indicator,
-- the total of the reports accepted at that level (each report's latest version accepted there)
-- and of those awaiting that level's decision (their latest valid version), without rows
-- marked as errors. At the consolidating body's level the accepted figures are the counted
-- ones (agg_indicator_totals); at a district's, what the district consolidated from its
-- communes before the province accepted it.

with

review as (

    select * from {{ ref('fct_report_review') }}

),

reviewers as (

    select distinct
        programme_code,
        period_code,
        reviewer_code,
        review_level,
        reviewer_name

    from review

),

accepted as (

    select distinct on (period_code, reviewer_code, unit_code)
        period_code,
        reviewer_code,
        unit_code,
        sheet_version_id,
        'accepted' as standing

    from review
    where level_state = 'da_chap_nhan'
    order by period_code asc, reviewer_code asc, unit_code asc, sheet_version_id desc

),

awaiting as (

    select
        period_code,
        reviewer_code,
        unit_code,
        sheet_version_id,
        'awaiting' as standing

    from review
    where level_state = 'cho_duyet'

),

figures as (

    select
        versions.period_code,
        versions.reviewer_code,
        versions.standing,
        indicator_rows.unit_code,
        indicator_rows.indicator_code,
        indicator_rows.value_number

    from (
        select * from accepted
        union all
        select * from awaiting
    ) as versions
    -- each version's rows through the index on (sheet_version_id, unit_code, row_key): one
    -- probe per version, never a pass over the history (macros/history.sql)
    cross join
        lateral (
            select
                indicator_rows.unit_code,
                indicator_rows.indicator_code,
                indicator_rows.value_number
            from {{ ref('int_indicator_rows_checked') }} as indicator_rows
            where indicator_rows.sheet_version_id = versions.sheet_version_id
                and indicator_rows.unit_code = versions.unit_code
                and not indicator_rows.has_error
            offset 0  -- noqa: AM09
        ) as indicator_rows

),

totals as (

    select
        period_code,
        reviewer_code,
        indicator_code,
        count(distinct unit_code) filter (
            where standing = 'accepted' and value_number is not null
        ) as accepted_units,
        sum(value_number) filter (where standing = 'accepted') as accepted_total,
        count(distinct unit_code) filter (
            where standing = 'awaiting' and value_number is not null
        ) as awaiting_units,
        sum(value_number) filter (where standing = 'awaiting') as awaiting_total

    from figures
    group by period_code, reviewer_code, indicator_code

),

final as (

    select
        reviewers.programme_code,
        totals.period_code,
        totals.reviewer_code,
        reviewers.review_level,
        reviewers.reviewer_name,
        totals.indicator_code,
        totals.accepted_units,
        totals.accepted_total,
        totals.awaiting_units,
        totals.awaiting_total

    from totals
    inner join reviewers
        on reviewers.period_code = totals.period_code
        and reviewers.reviewer_code = totals.reviewer_code

)

select * from final
