"""DLPE circuits package."""
