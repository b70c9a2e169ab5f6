-- Reporting units as they are now (one row per unit code, closed units included), with their
-- type, level and lineage. The names a unit had before are in dim_unit_history. contact_email
-- stays out of the marts.

with

units as (

    select * from {{ ref('stg_catalogue__units') }}

),

unit_types as (

    select * from {{ ref('stg_catalogue__unit_types') }}

),

unit_versions as (

    select * from {{ ref('int_unit_versions') }}

),

unit_changes as (

    select * from {{ ref('stg_catalogue__unit_changes') }}

),

version_counts as (

    select
        unit_code,
        count(*) as version_count

    from unit_versions
    group by unit_code

),

successors as (

    select
        from_unit_code as unit_code,
        string_agg(distinct to_unit_code, ', ' order by to_unit_code) as successor_unit_codes,
        max(change_date) as last_change_date

    from unit_changes
    where from_unit_code is not null
    group by from_unit_code

),

predecessors as (

    select
        to_unit_code as unit_code,
        string_agg(distinct from_unit_code, ', ' order by from_unit_code) as predecessor_unit_codes

    from unit_changes
    where to_unit_code is not null
    group by to_unit_code

),

final as (

    select
        units.unit_code,
        units.unit_name,
        units.unit_short_name,
        units.unit_type,
        unit_types.unit_type_name,
        unit_types.unit_level,
        {{ unit_level_label_vi('unit_types.unit_level') }} as unit_level_vi,
        units.parent_unit_code,
        units.programme_code,
        units.locality,
        units.valid_from,
        units.valid_to,
        (
            (units.valid_from is null or units.valid_from <= {{ as_of_date() }})
            and (units.valid_to is null or {{ as_of_date() }} <= units.valid_to)
        ) as is_active,
        units.updated_on as info_effective_from,
        coalesce(version_counts.version_count, 0) as version_count,
        predecessors.predecessor_unit_codes,
        successors.successor_unit_codes

    from units
    left join unit_types
        on unit_types.unit_type = units.unit_type
    left join version_counts
        on version_counts.unit_code = units.unit_code
    left join successors
        on successors.unit_code = units.unit_code
    left join predecessors
        on predecessors.unit_code = units.unit_code

)

select * from final
