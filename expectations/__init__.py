"""What valid means: the Great Expectations project (``gx/``) and the runner that feeds it."""

import logging

#: Great Expectations logs, at INFO and at import, every function it registers for its API docs
#: and every metric declared twice (about 250 lines a process), and a line per temporary docs
#: folder: library noise in every log that runs a validation. Its warnings and errors still
#: come through.
NOISY_LOGGERS = ("great_expectations", "great_expectations.data_context.types.base")


def quiet_great_expectations() -> None:
    """Keep Great Expectations' INFO lines out of our logs (again after importing it: one of
    its modules sets its own logger to INFO when imported)."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


quiet_great_expectations()
