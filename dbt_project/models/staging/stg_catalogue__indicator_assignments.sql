with

source as (

    select * from {{ ref('indicator_assignments') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        indicator_code,
        unit_code

    from source

)

select * from renamed
