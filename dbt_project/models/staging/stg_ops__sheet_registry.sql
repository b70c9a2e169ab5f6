with

source as (

    select * from {{ source('ops', 'sheet_registry') }}

),

renamed as (

    select

        ----------  ids
        spreadsheet_id,
        tab_title,
        programme_code,
        period_code,
        unit_code,

        ---------- text
        layout,

        ---------- timestamps
        registered_at

    from source

)

select * from renamed
