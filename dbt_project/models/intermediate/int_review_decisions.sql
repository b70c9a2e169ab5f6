{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['period_code', 'review_reading_id']},
            {'columns': ['decided_at']},
        ],
        post_hook='analyze {{ this }}',
    )
}}

-- Every entry the reviewers wrote in a review sheet (a decision, or a row the parser refused),
-- as an event: the first reading where the row showed it. A decision left in the sheet is the
-- same decision at every later reading; a row changed (another decision, another reason) is a
-- new event. Who and when, from the sheet's Drive revisions kept with the reading: the last
-- edit by someone other than the pipeline (Drive's lastModifyingUser.me) between the previous
-- reading and this one, decided_basis 'revision'; when Drive lists none, the reading's time and
-- nobody, decided_basis 'reading'. Drive does not say which cells a revision changed: when two
-- people edited the sheet between two readings, the later one is named.
-- One row per (review_reading_id, row_number). Applied or not (is_applicable), the rule that
-- holds a decision is int_report_approvals'.

with

readings as (

    select
        *,
        lag(review_reading_id) over sheet_readings as previous_reading_id,
        lag(read_at) over sheet_readings as previous_read_at

    from {{ ref('stg_raw__review_readings') }}
    window sheet_readings as (partition by spreadsheet_id order by review_reading_id)

),

entries as (

    select * from {{ ref('stg_parsed__review_decisions') }}

),

edits as (

    select
        readings.review_reading_id,
        (revision.value ->> 'modifiedTime')::timestamptz as edited_at,
        revision.value -> 'lastModifyingUser' ->> 'emailAddress' as edited_by

    from readings
    cross join
        lateral jsonb_array_elements(
            coalesce(readings.revisions, '[]'::jsonb)
        ) as revision (value)
    where
        not coalesce((revision.value -> 'lastModifyingUser' ->> 'me')::boolean, false)
        and (revision.value ->> 'modifiedTime')::timestamptz <= readings.read_at
        and (
            readings.previous_read_at is null
            or (revision.value ->> 'modifiedTime')::timestamptz > readings.previous_read_at
        )

),

last_edits as (

    select distinct on (review_reading_id)
        review_reading_id,
        edited_at,
        edited_by

    from edits
    order by review_reading_id asc, edited_at desc

),

new_entries as (

    select
        readings.period_code,
        readings.reviewer_code,
        readings.spreadsheet_id,
        readings.review_reading_id,
        readings.read_at,
        entries.row_number,
        entries.unit_code,
        entries.sheet_version_id,
        entries.decision_text,
        entries.decision_code,
        entries.reason,
        entries.is_applicable,
        entries.problem_code,
        entries.message_vi,
        entries.cell_ref,
        coalesce(last_edits.edited_at, readings.read_at) as decided_at,
        last_edits.edited_by as decided_by,
        case when last_edits.edited_at is not null then 'revision' else 'reading' end
            as decided_basis

    from entries
    inner join readings
        on readings.review_reading_id = entries.review_reading_id
    left join last_edits
        on last_edits.review_reading_id = entries.review_reading_id
    left join entries as previous
        on previous.review_reading_id = readings.previous_reading_id
        and previous.row_number = entries.row_number
    where
        previous.row_number is null
        or (previous.unit_code, previous.sheet_version_id, previous.decision_text, previous.reason)
        is distinct from
        (entries.unit_code, entries.sheet_version_id, entries.decision_text, entries.reason)

)

select * from new_entries
