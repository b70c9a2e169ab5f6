-- Every reporting period: the catalogue's (seeds) and the ad hoc ones requested from Airflow
-- (ops.adhoc_periods). A code already in the catalogue keeps the catalogue's definition.
-- Estimates ("ước thực hiện"): a period whose data window ends after its last on-time day has
-- figures from estimated_from to data_to that are estimates. The catalogue may give
-- estimated_from; otherwise (and for every ad hoc period) it is the day after the last on-time
-- day, when data_to is later. Same rule as tonghop.catalogue.estimate_start.

with

catalogue_periods as (

    select * from {{ ref('stg_catalogue__periods') }}

),

adhoc_periods as (

    select * from {{ ref('stg_ops__adhoc_periods') }}

),

unioned as (

    select
        programme_code,
        period_code,
        period_kind,
        period_name,
        period_year,
        data_from,
        data_to,
        due_date,
        on_time_until,
        opens_on,
        estimated_from,
        due_date_basis,
        due_date_source,
        review_required,
        false as is_requested_adhoc
    from catalogue_periods

    union all

    select
        programme_code,
        period_code,
        period_kind,
        period_name,
        period_year,
        data_from,
        data_to,
        due_date,
        on_time_until,
        opens_on,
        null::date as estimated_from,
        'yeu_cau'::text as due_date_basis,
        'Văn bản yêu cầu báo cáo đột xuất'::text as due_date_source,
        -- an ad hoc request has no review (the catalogue's periods say it per period)
        false as review_required,
        true as is_requested_adhoc
    from adhoc_periods
    where
        adhoc_periods.period_code not in (
            select catalogue_periods.period_code from catalogue_periods
        )

),

estimates as (

    select
        *,
        coalesce(
            estimated_from,
            case
                when data_to > {{ local_date('on_time_until') }}
                    then {{ local_date('on_time_until') }} + 1
            end
        ) as estimate_start

    from unioned

),

final as (

    select
        programme_code,
        period_code,
        period_kind,
        period_name,
        period_year,
        data_from,
        data_to,
        due_date,
        on_time_until,
        opens_on,
        -- the estimated part of the window, from estimate_start to its end (every mart that
        -- flags estimates reads these three columns)
        estimate_start as estimated_from,
        estimate_start is not null as has_estimate,
        case when estimate_start is not null then data_to end as estimated_to,
        due_date_basis,
        due_date_basis = 'gia_dinh' as is_due_date_assumed,
        due_date_source,
        -- whether a valid report counts only once its reviewers accepted it (issue 24:
        -- int_review_levels, int_report_approvals)
        review_required,
        is_requested_adhoc

    from estimates

)

select * from final
