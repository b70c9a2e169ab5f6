with

source as (

    select * from {{ source('parsed', 'task_rows') }}

),

renamed as (

    select

        ----------  ids
        sheet_version_id,
        unit_code,
        period_code,
        row_key,
        nullif(trim(task_code), '') as task_code,

        ---------- position
        tab_title,
        row_number,

        ---------- text
        status_text,
        status_code,
        result_text,
        completed_on_text,
        evidence_text,
        note_text,

        ---------- dates
        completed_on

    from source

)

select * from renamed
