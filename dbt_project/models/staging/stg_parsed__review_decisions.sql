with

source as (

    select * from {{ source('parsed', 'review_decisions') }}

),

renamed as (

    select

        ----------  ids
        review_reading_id,
        row_number,
        unit_code,
        sheet_version_id,

        ---------- text
        decision_text,
        decision_code,
        reason,
        problem_code,
        message_vi,
        cell_ref,

        ---------- booleans
        problem_code is null as is_applicable

    from source

)

select * from renamed
