"""What the tests and the benchmarks share: Airflow's REST API client and waits (``airflow``)
the marts' grain checks (``grains``), a warehouse's fingerprint compared with a clean run's
(``fingerprint``) and a partial build (``marts``). Nothing of the product imports it."""
