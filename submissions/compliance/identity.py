"""The engine's name and version, as reports and findings name it. Imports nothing, so every part of the
engine (the inference checker's command included) may name it without a cycle."""

ENGINE_NAME = "consortium-compliance"
ENGINE_VERSION = "1.0.0"


def engine_id() -> str:
    return f"{ENGINE_NAME} {ENGINE_VERSION}"
