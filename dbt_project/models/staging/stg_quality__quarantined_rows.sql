-- The rows kept out of the marts, without their content (row_data stays in the quality schema:
-- it is what a unit typed, to be read by engineers, not counted).

with

source as (

    select * from {{ source('quality', 'quarantined_rows') }}

),

renamed as (

    select

        ----------  ids
        validation_run_id,
        sheet_version_id,
        unit_code,
        period_code,

        ---------- where
        part,
        row_key,
        tab_title,
        row_number,

        ---------- what
        rule_codes,

        ---------- timestamps
        quarantined_at

    from source

)

select * from renamed
