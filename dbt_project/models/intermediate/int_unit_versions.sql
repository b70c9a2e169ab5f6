-- The versions of each unit (from the catalogue snapshot) with the dates they hold for, as a
-- half-open range [effective_from, effective_to): the first version holds from the unit's
-- start (valid_from; null = since always), the last one while effective_to is null. A period
-- takes the version in force on its due date (in_force_on macro).

with

versions as (

    select * from {{ ref('stg_catalogue__unit_versions') }}

),

ranged as (

    select
        *,
        case
            when
                row_number() over (
                    partition by unit_code order by version_valid_from, unit_version_key
                ) = 1
                then valid_from
            else version_valid_from
        end as effective_from,
        version_valid_to as effective_to

    from versions

)

select * from ranged
