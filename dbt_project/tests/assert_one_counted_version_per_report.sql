-- Each unit's report for a period has at most one counted version, and it is the latest
-- valid one (fct_submission's rule): the facts come from exactly that version.

with

versions as (

    select * from {{ ref('fct_report_version') }}
    where {{ history_scope() }}

),

per_report as (

    select
        period_code,
        unit_code,
        count(*) filter (where is_counted_version) as counted_versions,
        max(sheet_version_id) filter (where is_counted_version) as counted_version,
        max(sheet_version_id) filter (where is_complete) as latest_valid_version

    from versions
    group by period_code, unit_code

)

select * from per_report
where counted_versions > 1
    or counted_version is distinct from latest_valid_version
