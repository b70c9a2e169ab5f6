"""The core every stage stands on: settings (``settings``, secrets kept out of logs by
``masking``), the catalogue of programmes, units, tasks, indicators and periods
(``catalogue``), Vietnamese text, numbers and dates (``vn``, with the one number formatter),
the reporting calendar (``calendar``), errors (``errors``), alerts (``alerts``) and progress
events (``progress``). It imports nothing of the project's other packages."""
