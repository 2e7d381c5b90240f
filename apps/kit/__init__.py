"""The app kit: the one way every GloSleep service does settings, logs, errors,
health, metrics, database access, authentication and calls to other services."""
