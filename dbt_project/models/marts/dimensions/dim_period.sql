-- Reporting periods, each with the previous period of the same programme and kind (6 tháng ->
-- 6 tháng of the year before, năm -> năm before) that comparisons use; none for ad hoc
-- (đột xuất) reports. Same rule as tonghop.catalogue.Catalogue.previous_period.

with

periods as (

    select * from {{ ref('int_periods') }}

),

with_previous as (

    select
        periods.*,
        previous.period_code as previous_period_code

    from periods
    left join lateral (
        select earlier.period_code
        from periods as earlier
        where periods.period_kind <> 'dot_xuat'
            and earlier.programme_code = periods.programme_code
            and earlier.period_kind = periods.period_kind
            and earlier.data_to < periods.data_from
        order by earlier.data_to desc
        limit 1
    ) as previous on true

),

final as (

    select
        programme_code,
        period_code,
        period_kind,
        {{ period_kind_label_vi('period_kind') }} as period_kind_vi,
        period_year,
        period_name,
        data_from,
        data_to,
        due_date,
        on_time_until,
        due_date_basis,
        {{ due_date_basis_label_vi('due_date_basis') }} as due_date_basis_vi,
        is_due_date_assumed,
        due_date_source,
        opens_on,
        -- figures from estimated_from to estimated_to (the window's end) are estimates
        has_estimate,
        estimated_from,
        estimated_to,
        -- past due once the as-of day is after the last on-time day
        {{ as_of_date() }} > {{ local_date('on_time_until') }} as is_past_due,
        previous_period_code,
        -- a valid report counts only once its reviewers accepted it (issue 24)
        review_required

    from with_previous

)

select * from final
