"""Helpers shared by the tests: strategies, stand-in slots, oracles, the headless browser."""
