"""Per-architecture layout tables and predicates."""
