"""Dagster code location: assets for every dlt resource and dbt model, GX checks, schedules."""
