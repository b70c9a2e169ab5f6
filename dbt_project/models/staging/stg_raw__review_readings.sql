with

source as (

    select * from {{ source('raw', 'review_readings') }}

),

renamed as (

    select

        ----------  ids
        review_reading_id,
        period_code,
        reviewer_code,
        spreadsheet_id,
        pull_run_id,

        ---------- text
        content_sha256,
        service_account,

        ---------- timestamps
        read_at,

        ---------- json
        revisions

        -- payload (the table as read) is left in raw on purpose: parsed.review_decisions holds
        -- what was parsed of it

    from source

)

select * from renamed
