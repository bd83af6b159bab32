"""Billing: Nexus tariffs, PBX billing profiles, rating, consumption, finance export."""
