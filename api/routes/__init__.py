"""Routes, one module per user group: ops, oauth, issuers, departments, holders, public, audit."""
