"""Tests of the circuits package."""
