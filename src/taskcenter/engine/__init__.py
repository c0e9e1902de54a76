"""The job engine: handlers, workers that run them under leases, and cluster maintenance."""
