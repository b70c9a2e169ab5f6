-- Every entry the reviewers wrote in the review sheets (lịch sử quyết định duyệt), as first
-- read: the decision, for which version of which report, at which level, when (and whether the
-- time is that of the reviewer's own Drive revision or only of the reading), whether it was
-- applied or refused (with the message the reviewer read), and whether it is the decision that
-- holds now for that version at that level. Who decided is kept in the warehouse
-- (intermediate.int_review_decisions, from the sheet's Drive revisions) and not here: no mart
-- carries a person's address.

with

entries as (

    select * from {{ ref('int_review_decisions') }}

),

versions as (

    select * from {{ ref('int_report_versions') }}

),

holding as (

    -- the entry that holds per (level, version): the latest applicable one by the as_of_date
    select distinct on (period_code, reviewer_code, unit_code, sheet_version_id)
        review_reading_id,
        row_number

    from entries
    where is_applicable
        and {{ local_date('decided_at') }} <= {{ as_of_date() }}
    order by
        period_code asc, reviewer_code asc, unit_code asc, sheet_version_id asc,
        decided_at desc, review_reading_id desc, row_number desc

),

final as (

    select
        entries.period_code,
        entries.reviewer_code,
        case when entries.reviewer_code = 'tong_hop' then 'tong_hop' else 'cap_tren' end
            as review_level,
        entries.review_reading_id,
        entries.row_number,
        entries.cell_ref,
        entries.unit_code,
        entries.sheet_version_id,
        versions.version_number,
        entries.decision_text,
        entries.decision_code,
        {{ review_decision_label_vi('entries.decision_code') }} as decision_vi,
        entries.reason as decision_reason,
        entries.decided_at,
        entries.decided_basis,
        entries.decided_by is not null as is_decider_known,
        entries.read_at,
        entries.is_applicable,
        entries.problem_code,
        entries.message_vi as problem_message_vi,
        holding.review_reading_id is not null as is_holding

    from entries
    left join versions
        on versions.sheet_version_id = entries.sheet_version_id
        and versions.unit_code = entries.unit_code
        and versions.period_code = entries.period_code
    left join holding
        on holding.review_reading_id = entries.review_reading_id
        and holding.row_number = entries.row_number

)

select * from final
