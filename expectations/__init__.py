"""Great Expectations 1.x suites that guard the warehouse's truthfulness (SPEC §6)."""
