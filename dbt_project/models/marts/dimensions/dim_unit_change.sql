-- Unit lineage (biến động đơn vị): merges, splits, renames, closures, with the names of both
-- sides, so that a figure of a unit that no longer exists can be followed to its successor.

with

unit_changes as (

    select * from {{ ref('stg_catalogue__unit_changes') }}

),

units as (

    select * from {{ ref('stg_catalogue__units') }}

),

final as (

    select
        unit_changes.change_id,
        unit_changes.change_date,
        unit_changes.change_kind,
        {{ change_kind_label_vi('unit_changes.change_kind') }} as change_kind_vi,
        unit_changes.from_unit_code,
        from_units.unit_name as from_unit_name,
        unit_changes.to_unit_code,
        to_units.unit_name as to_unit_name,
        unit_changes.basis,
        unit_changes.note

    from unit_changes
    left join units as from_units
        on from_units.unit_code = unit_changes.from_unit_code
    left join units as to_units
        on to_units.unit_code = unit_changes.to_unit_code

)

select * from final
