{#-
    History of the unit catalogue (seeds/catalogue/units.csv). Timestamp strategy on the row's
    updated_on: when a unit is renamed, changes type or parent, the catalogue keeps its code and
    records the date the change took effect; the snapshot closes the old row at that date and
    opens the new one. A unit removed from the catalogue is closed at the run's time
    (hard_deletes: invalidate). Contact e-mails are left out: history of names, not of people.
-#}
{% snapshot snap_catalogue__units %}

select
    unit_code,
    unit_name,
    short_name,
    unit_type,
    parent_unit_code,
    locality,
    programme_scope,
    valid_from,
    valid_to,
    -- the first version of a unit that left before the catalogue began has no date at all
    coalesce(updated_on, valid_from, date '1900-01-01')::timestamp as updated_at

from {{ ref('units') }}

{% endsnapshot %}
