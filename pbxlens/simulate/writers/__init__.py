"""Writers of the simulated truth (CDR formats and the directory)."""

from .callcenter import CC_WRITERS
from .cdr import FORMAT_WRITERS, format_batch
from .common import CALL_FIELDS, DETAIL_FIELDS, TimeFormatter, call_values, detail_values
from .directory import write_directory, write_directory_json

FORMAT_WRITERS.update(CC_WRITERS)  # the Call Center CDR layouts

__all__ = ["CALL_FIELDS", "DETAIL_FIELDS", "FORMAT_WRITERS", "TimeFormatter", "call_values",
           "detail_values", "format_batch", "write_directory", "write_directory_json"]
