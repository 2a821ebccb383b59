"""Synthetic card profiles and APDU transcripts (data only; see README.md here)."""
