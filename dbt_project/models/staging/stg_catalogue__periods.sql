with

source as (

    select * from {{ ref('periods') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        period_code,

        ---------- text
        period_kind,
        period_name,
        due_date_basis,
        due_date_source,

        ---------- dates
        year as period_year,
        data_from,
        data_to,
        due_date,
        opens_on,
        estimated_from,

        ---------- timestamps
        on_time_until,

        ---------- booleans
        review_required

    from source

)

select * from renamed
