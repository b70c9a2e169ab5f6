with

source as (

    select * from {{ source('ops', 'adhoc_periods') }}

),

renamed as (

    select

        ----------  ids
        programme_code,
        period_code,

        ---------- text
        'dot_xuat'::text as period_kind,
        period_name,
        requested_by,

        ---------- dates
        extract(year from due_date)::integer as period_year,
        data_from,
        data_to,
        due_date,
        opens_on,

        ---------- timestamps
        requested_at

    from source

)

select * from renamed
