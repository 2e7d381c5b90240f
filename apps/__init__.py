"""GloSleep services: one package per service, plus the shared app kit."""

# The release of the services, shown in every OpenAPI document; equal to pyproject.toml's
# version (tests/kit/test_openapi.py checks). A constant, not importlib.metadata, because
# the images install the dependencies without the project itself.
__version__ = "0.1.0"
