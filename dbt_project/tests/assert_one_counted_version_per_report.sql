-- Each unit's report for a period has at most one counted version, and it is the latest
-- usable one: the facts come from exactly that version.

with

versions as (

    select * from {{ ref('fct_report_version') }}

),

per_report as (

    select
        period_code,
        unit_code,
        count(*) filter (where is_counted_version) as counted_versions,
        max(sheet_version_id) filter (where is_counted_version) as counted_version,
        max(sheet_version_id) filter (where is_usable) as latest_usable_version

    from versions
    group by period_code, unit_code

)

select * from per_report
where counted_versions > 1
    or counted_version is distinct from latest_usable_version
