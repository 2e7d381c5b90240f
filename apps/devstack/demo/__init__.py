"""Dev-mode demo data, one module per service with a `seed(kit)` the kit runs at start
when DEV_MODE is set (apps/kit/app.py). Part of apps/devstack, so no image holds it
(.dockerignore): an image started in dev mode has no demo data (docs/images.md)."""
