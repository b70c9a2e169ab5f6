with

source as (

    select * from {{ ref('programmes') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        document_number,

        ---------- text
        short_name as programme_short_name,
        title as programme_title,
        issuer,
        locality,
        parent_documents,
        consolidating_body,
        report_recipient,

        ---------- dates
        issued_on,
        issued_month

    from source

)

select * from renamed
