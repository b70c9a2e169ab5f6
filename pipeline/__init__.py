"""The pipeline: the stages chained for Airflow and the command line (``cycle``), dbt runs
(``dbt``), the Assets that chain the DAGs (``assets``), the freshness check (``freshness``) and
ad hoc periods requested at run time (``adhoc``). It stands on the stages (ingest,
expectations, publish), the Sheets client and the core; only the DAGs, the tooling, the tests
and the benchmarks import it."""
