"""Durable storage: the ports (taskcenter.ports) implemented once per dialect.

``sqlite/`` and ``postgres/`` hold one module per port, each with its SQL in a named-query file
(``sql/<module>.sql``, read by storage/sql.py); ``migrations/`` their schemas; ``polls/`` the
poll lookups' batcher and readers. factory.py opens the store a URL names: the one place outside
this package that may name a storage engine.
"""
