with

programmes as (

    select * from {{ ref('stg_catalogue__programmes') }}

),

final as (

    select
        programme_code,
        programme_short_name,
        document_number,
        programme_title,
        issuer,
        issued_on,
        issued_month,
        locality,
        parent_documents,
        consolidating_body,
        report_recipient,
        report_parent_body,
        report_symbol,
        report_place,
        report_signer_title,
        report_cc,
        report_plan_name

    from programmes

)

select * from final
