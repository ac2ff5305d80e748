"""EduOps hub: fleet, coverage of measure nine, scheduling and metrics for a county."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("eduops")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
