"""Test support modules (servers, model fixtures), imported as ``support.<name>``."""
