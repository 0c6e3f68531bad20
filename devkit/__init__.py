"""Dev kit: the demo-org generator with its truth and scoring, and local stand-ins for the
vendor APIs. Used by the demo commands, the tests and the benchmarks; the product never
imports it."""
