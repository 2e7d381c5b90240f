"""glosleep-ops: cost and drift reviews of the Pulumi program for leads (docs/operations.md)."""

EXIT_OK = 0
EXIT_CHANGED = 10
EXIT_ERROR = 2
