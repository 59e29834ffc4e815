"""The transparency log's store: appends, the access log, proofs, checkpoints, tiles, witnesses."""
