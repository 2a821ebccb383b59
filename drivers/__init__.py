"""Reader backends and the My Number card driver: bytes, APDUs, status words, files."""
