"""The scenario language: the data model, its schema, the YAML loader and the registry."""
