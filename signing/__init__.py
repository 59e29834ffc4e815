"""PDF seals and trust, as a library: no database, no web, no object store.

Seal PDFs (PAdES B-B to B-LTA), verify them into a :class:`schemas.VerificationReport`,
timestamps, trust stores and bundles, key sources, certified-copy rendering.
May import ``schemas`` only.
"""
