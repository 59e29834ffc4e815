"""The only place where errors become HTTP answers (RFC 9457 problem+json)."""
