"""What the tests and the benchmarks share: Airflow's REST API client and waits (``airflow``)
and the marts' grain checks (``grains``). Nothing of the product imports it."""
