"""Helpers shared by tests: known evaluations, a Chromium DevTools driver."""
