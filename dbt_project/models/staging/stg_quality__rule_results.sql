with

source as (

    select * from {{ source('quality', 'rule_results') }}

),

renamed as (

    select

        ----------  ids
        validation_run_id,
        sheet_version_id,
        unit_code,
        period_code,

        ---------- what
        part,
        rule_code,
        severity,

        ---------- numerics
        rows_checked,
        rows_failed

    from source

)

select * from renamed
