"""What the tests and the benchmarks share: Airflow's REST API client and waits (``airflow``)
the marts' grain checks (``grains``), a warehouse's fingerprint compared with a clean run's
(``fingerprint``), a Celery worker killed and its messages redelivered (``celery``) and a
partial build (``marts``). Nothing of the product imports it."""
