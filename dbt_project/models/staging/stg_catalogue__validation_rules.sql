with

source as (

    select * from {{ ref('validation_rules') }}

),

renamed as (

    select

        ----------  ids
        rule_code,

        ---------- text
        part,
        severity,
        rule_name_vi,
        rule_name_en

    from source

)

select * from renamed
