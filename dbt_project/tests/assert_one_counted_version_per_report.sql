-- Each unit's report for a period has at most one counted version, and it is the latest
-- valid one (fct_submission's rule): the facts come from exactly that version. When the period
-- requires review, it is the latest valid version accepted (int_report_approvals).

with

versions as (

    select * from {{ ref('fct_report_version') }}
    where {{ history_scope() }}

),

accepted as (

    select
        sheet_version_id,
        unit_code,
        review_required,
        is_accepted
    from {{ ref('int_report_versions') }}
    where {{ history_scope() }}

),

per_report as (

    select
        versions.period_code,
        versions.unit_code,
        count(*) filter (where versions.is_counted_version) as counted_versions,
        max(versions.sheet_version_id) filter (where versions.is_counted_version)
            as counted_version,
        max(versions.sheet_version_id) filter (
            where versions.is_complete and (not accepted.review_required or accepted.is_accepted)
        ) as latest_valid_version

    from versions
    left join accepted
        on accepted.sheet_version_id = versions.sheet_version_id
        and accepted.unit_code = versions.unit_code
    group by versions.period_code, versions.unit_code

)

select * from per_report
where counted_versions > 1
    or counted_version is distinct from latest_valid_version
