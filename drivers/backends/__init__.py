"""Reader backends: each moves bytes to and from one card and reports card and reader events."""
