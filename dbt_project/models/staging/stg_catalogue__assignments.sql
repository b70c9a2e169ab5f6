with

source as (

    select * from {{ ref('assignments') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        task_code,
        unit_code,

        ---------- text
        role,
        source_ref

    from source

)

select * from renamed
