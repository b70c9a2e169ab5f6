with

source as (

    select * from {{ ref('unit_types') }}

),

renamed as (

    select

        ----------  ids
        unit_type,

        ---------- text
        unit_type_name,
        level as unit_level

    from source

)

select * from renamed
