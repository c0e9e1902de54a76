"""Durable storage: one Store interface, one hand-written SQL module per dialect."""

from taskcenter.storage.base import JobListing, Store
from taskcenter.storage.factory import open_store

__all__ = ["JobListing", "Store", "open_store"]
