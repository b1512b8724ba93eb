"""Screens of the desk: one module per screen, its .tcss beside it."""
