"""The PostgreSQL store: one module per port, its SQL in sql/<module>.sql (storage/sql.py)."""
