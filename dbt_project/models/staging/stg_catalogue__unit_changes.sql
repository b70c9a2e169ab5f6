with

source as (

    select * from {{ ref('unit_changes') }}

),

renamed as (

    select

        ----------  ids
        change_id,
        from_unit_code,
        to_unit_code,

        ---------- text
        change_kind,
        basis,
        note,

        ---------- dates
        change_date

    from source

)

select * from renamed
