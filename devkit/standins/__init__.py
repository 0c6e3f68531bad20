"""Local stand-ins that speak the vendors' HTTP contracts on 127.0.0.1.

They serve a generated org (``salesops generate``) so the extractors run their real code paths
in the demo and in tests, with injectable faults (5xx, rate-limit codes, expired tokens, slow and
truncated responses).
"""
