"""Reusable widgets: person picker, money input, status bar."""
