with

source as (

    select * from {{ source('parsed', 'indicator_rows') }}

),

renamed as (

    select

        ----------  ids
        sheet_version_id,
        unit_code,
        period_code,
        row_key,
        nullif(trim(indicator_code), '') as indicator_code,

        ---------- position
        tab_title,
        row_number,

        ---------- numerics
        value_number,

        ---------- text
        value_text,
        value_reading,
        reading_note,
        note_text

    from source

)

select * from renamed
