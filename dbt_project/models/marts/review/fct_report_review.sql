-- What each review sheet lists: one row per valid version of a report that reached a reviewer
-- (period x reviewer x unit x version), with the decision that holds for it at that level and
-- where it stands there. A parent unit reviews its units' valid versions; the consolidating body
-- ('tong_hop', the Sở) those of units reviewed by nobody before it, and a unit's version once its
-- parent accepted it (int_review_levels, int_report_approvals: the rules). The review sheets
-- (publish/review_sheet.py) are written from it; a version keeps its row at a level for good.

with

versions as (

    select * from {{ ref('int_report_versions') }}
    where review_required and is_complete

),

approvals as (

    select * from {{ ref('int_report_approvals') }}

),

submissions as (

    select * from {{ ref('fct_submission') }}

),

programmes as (

    select * from {{ ref('stg_catalogue__programmes') }}

),

units as (

    select * from {{ ref('stg_catalogue__units') }}

),

-- each version at each level it reached
levels as (

    select
        versions.*,
        versions.parent_reviewer_code as reviewer_code,
        'cap_tren' as review_level,
        approvals.parent_decision as level_decision,
        approvals.parent_reason as level_reason,
        approvals.parent_decided_at as level_decided_at

    from versions
    left join approvals
        on approvals.sheet_version_id = versions.sheet_version_id
        and approvals.unit_code = versions.unit_code
    where versions.parent_reviewer_code is not null

    union all

    select
        versions.*,
        'tong_hop' as reviewer_code,
        'tong_hop' as review_level,
        approvals.top_decision as level_decision,
        approvals.top_reason as level_reason,
        approvals.top_decided_at as level_decided_at

    from versions
    left join approvals
        on approvals.sheet_version_id = versions.sheet_version_id
        and approvals.unit_code = versions.unit_code
    where
        versions.parent_reviewer_code is null
        or approvals.parent_decision = 'chap_nhan'

),

stated as (

    select
        *,
        -- where the version stands at this level
        case
            when level_decision = 'chap_nhan' then 'da_chap_nhan'
            when level_decision = 'tra_lai' then 'bi_tra_lai'
            when not is_latest_valid then 'co_ban_moi_hon'
            else 'cho_duyet'
        end as level_state

    from levels

),

final as (

    select
        stated.programme_code,
        stated.period_code,
        stated.reviewer_code,
        stated.review_level,
        case
            when stated.review_level = 'tong_hop' then programmes.consolidating_body
            else reviewers.unit_name
        end as reviewer_name,
        stated.unit_code,
        submissions.unit_name_at_period,
        stated.sheet_version_id,
        stated.version_number,
        stated.received_at,
        stated.level_decision as decision_code,
        {{ review_decision_label_vi('stated.level_decision') }} as decision_vi,
        stated.level_reason as decision_reason,
        stated.level_decided_at as decided_at,
        stated.level_state,
        {{ review_level_state_label_vi('stated.level_state') }} as level_state_vi,
        stated.is_latest_valid,
        stated.is_latest_complete as is_counted_version

    from stated
    inner join submissions
        on submissions.period_code = stated.period_code
        and submissions.unit_code = stated.unit_code
    left join programmes
        on programmes.programme_code = stated.programme_code
    left join units as reviewers
        on reviewers.unit_code = stated.reviewer_code

)

select * from final
