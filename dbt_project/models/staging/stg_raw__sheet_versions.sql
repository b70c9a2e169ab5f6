with

source as (

    select * from {{ source('raw', 'sheet_versions') }}

),

renamed as (

    select

        ----------  ids
        sheet_version_id,
        spreadsheet_id,
        pull_run_id,

        ---------- text
        spreadsheet_title,
        content_sha256,

        ---------- timestamps
        drive_modified_time,
        fetched_at,
        -- the read's evidence (null on versions landed before it was kept)
        read_at,
        modified_after,

        ---------- json
        revisions

        -- payload (the whole Sheets API response) is left in raw on purpose

    from source

)

select * from renamed
