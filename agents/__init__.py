"""EduOps classroom agent: reports terminal and network health to the hub; imports nothing from eduops."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("eduops")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
