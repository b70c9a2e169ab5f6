with

source as (

    select * from {{ ref('snap_catalogue__units') }}

),

renamed as (

    select

        ----------  ids
        dbt_scd_id as unit_version_key,
        unit_code,
        unit_type,
        parent_unit_code,
        programme_scope as programme_code,

        ---------- text
        unit_name,
        short_name as unit_short_name,
        locality,

        ---------- dates
        valid_from,
        valid_to,
        dbt_valid_from::date as version_valid_from,
        dbt_valid_to::date as version_valid_to,

        ---------- booleans
        dbt_valid_to is null as is_current_version

    from source

)

select * from renamed
