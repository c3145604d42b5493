"""Rule logs: everything a stage says, and any failure's message, goes to the rule's log file."""

import contextlib
import logging
import sys

from selfseed.errors import SelfseedError

log = logging.getLogger("selfseed")


@contextlib.contextmanager
def logged(path):
    """Send log records and warnings to `path`; write an expected failure's message there, then re-raise."""
    logging.basicConfig(
        filename=path, level=logging.INFO, format="%(levelname)s %(message)s", force=True
    )
    logging.captureWarnings(True)
    try:
        yield log
    except SelfseedError as error:
        log.error("%s", error)
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
    except Exception:
        log.exception("unexpected failure")
        raise
