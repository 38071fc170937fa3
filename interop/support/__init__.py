"""Test support for the LoadGuard interoperability suite: peers, wire recording, schemas, process control."""
