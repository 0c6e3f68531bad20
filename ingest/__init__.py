"""Extract and load: one dlt source per system (``ingest/<src>/``), landing in ``raw_<src>``."""
