"""The local tooling: the ``tonghop`` command line (``cli``, with the offline ``check`` of a
filled workbook and the typed ``codes``), its console output (``console``), the demo province
(``demo``, ``demo_setup``), the local PostgreSQL cluster (``localdb``) and local Airflow
(``local_airflow``; docker-compose.yml's Celery topology as processes: ``local_celery``, its
workers' host names: ``worker_host``). It stands on the pipeline; nothing of the product imports it."""
