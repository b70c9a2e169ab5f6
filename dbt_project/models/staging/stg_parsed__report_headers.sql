with

source as (

    select * from {{ source('parsed', 'report_headers') }}

),

renamed as (

    select

        ----------  ids
        sheet_version_id,
        unit_code,
        period_code,
        validation_run_id,
        spreadsheet_id,
        registry_tab_title,
        claimed_unit_code,
        claimed_period_code,

        ---------- text
        submitted_text,
        part_sha256,

        ---------- booleans
        is_submitted,
        -- whether the unit wrote anything in its tables: ingest.parse.ParsedReport.has_content,
        -- the one definition, stored by validation (never recomputed here)
        has_content,

        ---------- timestamps
        parsed_at

        -- reporter_name, reporter_position, reporter_phone, reporter_email: personal data,
        -- deliberately not carried past the source

    from source

)

select * from renamed
