with

source as (

    select * from {{ ref('task_groups') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        task_group_code,

        ---------- text
        group_no as task_group_no,
        group_name as task_group_name

    from source

)

select * from renamed
