-- Every version of every unit (SCD type 2, from the catalogue snapshot): the name, type and
-- parent a unit had, and the dates they held for. Facts point at the version in force on the
-- period's due date (fct_submission.unit_version_key); unit_code stays the same across versions.

with

unit_versions as (

    select * from {{ ref('int_unit_versions') }}

),

unit_types as (

    select * from {{ ref('stg_catalogue__unit_types') }}

),

final as (

    select
        unit_versions.unit_version_key,
        unit_versions.unit_code,
        unit_versions.unit_name,
        unit_versions.unit_short_name,
        unit_versions.unit_type,
        unit_types.unit_type_name,
        unit_types.unit_level,
        {{ unit_level_label_vi('unit_types.unit_level') }} as unit_level_vi,
        unit_versions.parent_unit_code,
        unit_versions.programme_code,
        unit_versions.locality,
        unit_versions.valid_from,
        unit_versions.valid_to,
        unit_versions.effective_from as version_valid_from,
        unit_versions.effective_to as version_valid_to,
        unit_versions.is_current_version

    from unit_versions
    left join unit_types
        on unit_types.unit_type = unit_versions.unit_type

)

select * from final
