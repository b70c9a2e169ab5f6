with

source as (

    select * from {{ source('quality', 'validation_issues') }}

),

renamed as (

    select

        ----------  ids
        issue_id,
        validation_run_id,
        sheet_version_id,
        unit_code,
        period_code,

        ---------- where
        part,
        row_key,
        tab_title,
        cell_ref,

        ---------- what
        rule_code,
        severity,
        expectation_type,
        value_found,
        message_vi,
        expected_vi,
        fix_vi,

        ---------- booleans
        severity = 'error' as is_error,
        severity = 'warning' as is_warning,
        blocks_version

    from source

)

select * from renamed
