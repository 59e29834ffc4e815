"""Holders' SD-JWT verifiable credentials, as a library: no database, no web.

- :mod:`signing.credentials.keys`: the vault's ES256 credential key and public JWKs.
- :mod:`signing.credentials.sdjwt`: issue an SD-JWT VC (RFC 9901, SD-JWT VC draft), verify a
  presentation (SD-JWT + Key Binding JWT) into a ``PresentationCheck``.
- :mod:`signing.credentials.status_list` and :mod:`signing.credentials.tokens`: the Token
  Status List and its signed token; the wallet's OpenID4VCI proof of possession.
- :mod:`signing.credentials.verdict`: the verifier's whole answer, status included.

JOSE is ``jwcrypto``'s and the SD-JWT mechanics the IETF reference implementation's
(``sd-jwt``), with the checks RFC 9901 asks for that it lacks (see ``sdjwt``).
"""

__all__: list[str] = []
