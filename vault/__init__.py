"""The store and its rules: database, blob stores, intake, lifecycle, grants, copies, the
transparency log, settings and the ``evault`` CLI. May import ``signing`` and ``schemas``."""
