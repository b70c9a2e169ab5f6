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
        report_parent_body,
        report_symbol,
        report_place,
        report_signer_title,
        report_cc,
        report_plan_name,

        ---------- dates
        issued_on,
        issued_month

    from source

)

select * from renamed
