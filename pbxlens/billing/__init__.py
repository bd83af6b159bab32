"""Billing (issue 8): Nexus tariffs, PBX billing profiles, rating, consumption, finance export."""
