"""Measure nine coverage: a working teaching terminal and network in every class and every school.

figures and gaps hold the rules as pure functions; store holds the SQL;
report reads one scope at one moment for the pages, the API and the snapshot job.
"""
