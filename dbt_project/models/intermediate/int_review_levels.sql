{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['period_code', 'unit_code']},
        ],
        post_hook='analyze {{ this }}',
    )
}}

-- Who reviews each expected report (period x unit), when its period requires review
-- (review_required, catalogue periods.csv): first its parent unit, when the unit has one in the
-- version in force on the period's due date and the parent itself exists on that day (so a
-- district that ended on 30/6/2025 reviews nothing due after it: its communes report straight
-- to the province), then the consolidating body (the Sở: reviewer code 'tong_hop'). The one
-- definition of the review levels: the review sheets, the marts and the decisions' checks
-- (ingest/review.py reads it through fct_submission) all read it.

with

expected as (

    select * from {{ ref('int_expected_reports') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

unit_versions as (

    select * from {{ ref('int_unit_versions') }}

),

units as (

    select * from {{ ref('stg_catalogue__units') }}

),

parents as (

    select
        expected.programme_code,
        expected.period_code,
        expected.unit_code,
        expected.due_date,
        periods.review_required,
        unit_versions.parent_unit_code

    from expected
    inner join periods
        on periods.period_code = expected.period_code
    left join unit_versions
        on unit_versions.unit_code = expected.unit_code
        and {{ in_force_on('unit_versions', 'expected.due_date') }}

),

final as (

    select
        parents.programme_code,
        parents.period_code,
        parents.unit_code,
        parents.review_required,
        -- the parent reviews first only while it exists (the 2025 reorganisation ended the
        -- district level on 1/7/2025)
        case
            when parents.review_required and parent_units.unit_code is not null
                then parent_units.unit_code
        end as parent_reviewer_code,
        case
            when parents.review_required and parent_units.unit_code is not null
                then parent_units.unit_name
        end as parent_reviewer_name

    from parents
    left join units as parent_units
        on parent_units.unit_code = parents.parent_unit_code
        and (parent_units.valid_from is null or parent_units.valid_from <= parents.due_date)
        and (parent_units.valid_to is null or parent_units.valid_to >= parents.due_date)

)

select * from final
