"""Data files of :mod:`qcore_client.problems` (a package so that wheels ship the JSON)."""
