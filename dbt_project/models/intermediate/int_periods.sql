-- Every reporting period: the catalogue's (seeds) and the ad hoc ones requested from Airflow
-- (ops.adhoc_periods). A code already in the catalogue keeps the catalogue's definition.

with

catalogue_periods as (

    select * from {{ ref('stg_catalogue__periods') }}

),

adhoc_periods as (

    select * from {{ ref('stg_ops__adhoc_periods') }}

),

unioned as (

    select
        programme_code, period_code, period_kind, period_name, period_year,
        data_from, data_to, due_date, on_time_until, opens_on,
        false as is_requested_adhoc
    from catalogue_periods

    union all

    select
        programme_code, period_code, period_kind, period_name, period_year,
        data_from, data_to, due_date, on_time_until, opens_on,
        true as is_requested_adhoc
    from adhoc_periods
    where period_code not in (select period_code from catalogue_periods)

)

select * from unioned
