"""How many examples the AK/SK property tests try: a few seconds' worth in the normal suite,
TASKCENTER_PROPERTY_EXAMPLES of them when asked (bench/aksk_properties.py asks for 10,000)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES_VARIABLE = "TASKCENTER_PROPERTY_EXAMPLES"

PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get(EXAMPLES_VARIABLE, "200")),
    deadline=None,  # a loaded 2-core machine: time is not what these test
    database=None,  # nothing written into the work tree; a failure prints its example and blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
