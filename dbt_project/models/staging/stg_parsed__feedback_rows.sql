with

source as (

    select * from {{ source('parsed', 'feedback_rows') }}

),

renamed as (

    select

        ----------  ids
        sheet_version_id,
        unit_code,
        period_code,
        row_key,

        ---------- position
        tab_title,
        row_number,

        ---------- text
        kind as feedback_kind,
        kind_text as feedback_kind_text,
        content_text

    from source

)

select * from renamed
