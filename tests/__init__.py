"""The nianbao test suite: `pytest` from the project root."""
