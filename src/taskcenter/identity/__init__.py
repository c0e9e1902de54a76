"""Identity: users, passwords, Keystone-style tokens and AK/SK signatures."""
