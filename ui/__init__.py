"""Touchscreen screens as pure render functions of the session engine's view models."""
