"""``evault demo``: the embedded demo, its sample data and the keys it makes
(:mod:`api.demo.prepare`)."""
