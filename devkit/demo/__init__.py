"""The demo sales organisation: a seeded simulation written in every source's real shape."""
