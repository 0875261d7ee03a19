"""Artifacts for people: content-addressed JSON reports built from the marts."""
