"""EduOps hub: fleet, coverage of measure nine, scheduling and metrics for a county."""
