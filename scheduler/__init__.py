"""Booking rules for sky-classroom sessions and the jobs the hub runs, as plain functions over plain data."""
