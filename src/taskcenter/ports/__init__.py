"""What the task center needs from durable storage, one Protocol per concern.

Callers type against the port of the concern they use (the engine against EnginePort, the
instance service against InstancesPort, ...); only the assembling place opens a store, which
implements all of them (ports.store.Store). Each port has its own contract suite that every
storage engine runs (tests/storage/test_*_port.py).
"""

from taskcenter.ports.engine import EnginePort, LeaseStatus
from taskcenter.ports.identity import IdentityPort, ProjectInUse, ProjectSummary, project_summaries
from taskcenter.ports.instances import InstancesPort
from taskcenter.ports.jobs import JobListing, JobsPort
from taskcenter.ports.store import Store

__all__ = [
    "EnginePort",
    "IdentityPort",
    "InstancesPort",
    "JobListing",
    "JobsPort",
    "LeaseStatus",
    "ProjectInUse",
    "ProjectSummary",
    "Store",
    "project_summaries",
]
