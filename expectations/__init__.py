"""What valid means: the Great Expectations project (``gx/``) and the runner that feeds it."""

import logging

# Great Expectations logs, at INFO and at import, every function it registers for its API docs
# and every metric declared twice (about 250 lines a process): library noise in every log that
# runs a validation. Its warnings and errors still come through.
logging.getLogger("great_expectations").setLevel(logging.WARNING)
