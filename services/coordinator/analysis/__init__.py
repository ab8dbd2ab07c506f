"""Statistics and analysis of stored episodes: cell summaries with confidence intervals, collaboration gaps,
ordering effects, relay curves and the paper's published pairs beside ours.

Pure computation over `EpisodeRecord`s: it imports only `protocol`, numpy and the coordinator's shared
`_errors` and `_records`, never a client, a store or a report.
"""
