{{ config(severity='warn') }}

-- Reports received from a unit for a period in which it is not expected to report (no task of
-- the programme assigned, or not valid on the due date). They are left out of the marts; this
-- warns so that the registry or the catalogue can be corrected.

with

report_versions as (

    select * from {{ ref('int_report_versions') }}
    where {{ history_scope() }}

),

expected as (

    select * from {{ ref('int_expected_reports') }}

)

select
    report_versions.period_code,
    report_versions.unit_code,
    count(*) as versions

from report_versions
left join expected
    on expected.period_code = report_versions.period_code
    and expected.unit_code = report_versions.unit_code
where expected.unit_code is null
group by report_versions.period_code, report_versions.unit_code
