"""The HTTP API: thin routes over the domain, the store and identity."""
