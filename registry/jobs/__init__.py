"""Scheduled jobs: plain functions of `now`, each in its own module, run by one scheduler process."""
