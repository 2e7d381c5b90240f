"""GloSleep services: one package per service, plus the shared app kit."""
