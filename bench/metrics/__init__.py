"""Metrics read Predictions only, so any stored run can be re-scored without re-running a model."""
