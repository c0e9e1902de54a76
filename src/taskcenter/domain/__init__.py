"""The job domain: states, transitions, errors and wire formats. Depends on nothing else here."""
