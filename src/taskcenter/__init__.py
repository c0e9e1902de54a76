"""taskcenter: a self-hostable task center for TaurusDB (GaussDB for MySQL)."""

__version__ = "0.1.0"
