{{ config(severity='warn') }}

-- The current version of each unit in the snapshot says what the catalogue says. A difference
-- means a unit's row was edited without moving its updated_on date forward, so the snapshot
-- (timestamp strategy) kept the old information: set updated_on to the date the change took
-- effect in seeds/catalogue/units.csv and build again.

with

current_versions as (

    select * from {{ ref('stg_catalogue__unit_versions') }}
    where is_current_version

),

units as (

    select * from {{ ref('stg_catalogue__units') }}

)

select
    units.unit_code,
    current_versions.unit_name as snapshot_name,
    units.unit_name as catalogue_name

from units
left join current_versions
    on current_versions.unit_code = units.unit_code
where current_versions.unit_code is null
    or current_versions.unit_name is distinct from units.unit_name
    or current_versions.unit_short_name is distinct from units.unit_short_name
    or current_versions.unit_type is distinct from units.unit_type
    or current_versions.parent_unit_code is distinct from units.parent_unit_code
    or current_versions.locality is distinct from units.locality
    or current_versions.valid_from is distinct from units.valid_from
    or current_versions.valid_to is distinct from units.valid_to
