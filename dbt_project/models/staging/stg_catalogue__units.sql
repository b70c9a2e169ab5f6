with

source as (

    select * from {{ ref('units') }}

),

renamed as (

    select

        ----------  ids
        unit_code,
        unit_type,
        parent_unit_code,
        programme_scope as programme_code,

        ---------- text
        unit_name,
        short_name as unit_short_name,
        locality,
        contact_email,

        ---------- dates
        valid_from,
        valid_to,
        updated_on

    from source

)

select * from renamed
