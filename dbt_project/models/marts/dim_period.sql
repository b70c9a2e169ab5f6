with

periods as (

    select * from {{ ref('stg_catalogue__periods') }}

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
        opens_on,
        {{ as_of_date() }} > due_date as is_past_due

    from periods

)

select * from final
