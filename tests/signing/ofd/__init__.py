"""Tests of signing.ofd."""
