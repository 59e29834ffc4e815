"""``evault demo``: the embedded demo, its sample data and the keys it makes.

:func:`api.demo.prepare.prepare_demo` makes (or reuses) it all; docs/architecture.md lists
what each module holds. Nothing is imported here: the SoftHSM2 child process runs
``python -m api.demo.hsm`` without the rest.
"""
