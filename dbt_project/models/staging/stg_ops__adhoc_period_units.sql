with

source as (

    select * from {{ source('ops', 'adhoc_period_units') }}

),

renamed as (

    select
        period_code,
        unit_code

    from source

)

select * from renamed
