with

source as (

    select * from {{ source('quality', 'validation_runs') }}

),

renamed as (

    select

        ----------  ids
        validation_run_id,
        pull_run_id,
        period_code,

        ---------- text
        ruleset_version,
        data_docs_path,

        ---------- numerics
        sheet_versions as sheet_versions_checked,
        reports as reports_checked,
        rows_checked,
        errors as error_count,
        warnings as warning_count,

        ---------- booleans
        gx_success,

        ---------- timestamps
        started_at,
        finished_at

    from source

)

select * from renamed
