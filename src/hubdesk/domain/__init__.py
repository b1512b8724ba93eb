"""The domain: pydantic models, vocabularies and rules. No I/O, no imports of ours."""
