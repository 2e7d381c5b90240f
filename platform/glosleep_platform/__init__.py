"""GloSleep's Pulumi components: one ComponentResource per job (see docs/deploy.md)."""
