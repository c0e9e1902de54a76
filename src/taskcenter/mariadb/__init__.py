"""The local driver: TaurusDB instances as real MariaDB server processes on this machine."""
