-- Reporting units with their type and level. contact_email stays out of the marts.

with

units as (

    select * from {{ ref('stg_catalogue__units') }}

),

unit_types as (

    select * from {{ ref('stg_catalogue__unit_types') }}

),

final as (

    select
        units.unit_code,
        units.unit_name,
        units.unit_short_name,
        units.unit_type,
        unit_types.unit_type_name,
        unit_types.unit_level,
        case unit_types.unit_level
            when 'tinh' then 'Tỉnh'
            when 'huyen' then 'Huyện'
            when 'xa' then 'Xã'
        end as unit_level_vi,
        units.parent_unit_code,
        units.programme_code,
        units.locality,
        units.valid_from,
        units.valid_to,
        units.valid_from <= {{ as_of_date() }}
            and (units.valid_to is null or {{ as_of_date() }} <= units.valid_to) as is_active

    from units
    left join unit_types
        on unit_types.unit_type = units.unit_type

)

select * from final
