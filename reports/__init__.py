"""Artifacts for people: content-addressed, write-once JSON reports, invoice drafts and evidence bundles
built from the marts. The pipeline, the period gate and the API's close all call these writers."""
