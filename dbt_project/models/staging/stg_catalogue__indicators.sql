with

source as (

    select * from {{ ref('indicators') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        indicator_code,
        task_code,

        ---------- text
        indicator_name,
        unit_of_measure,
        value_kind,
        source_ref,

        ---------- target
        target_value,
        target_operator,
        target_period_kind,
        target_scope

    from source

)

select * from renamed
