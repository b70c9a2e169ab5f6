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
        -- the last on-time moment; a request without one: the end of the due date, Vietnam time
        coalesce(
            on_time_until,
            (
                (due_date + 1)::timestamp - interval '1 second'
            ) at time zone '{{ var("report_timezone", "Asia/Ho_Chi_Minh") }}'
        ) as on_time_until,
        requested_at

    from source

)

select * from renamed
