with

source as (

    select * from {{ ref('tasks') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        task_code,
        task_group_code,

        ---------- text
        task_no,
        task_text,
        task_text_source,
        timing,
        source_ref,

        ---------- dates
        deadline

    from source

)

select * from renamed
