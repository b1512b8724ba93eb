"""hubdesk: the duty desk for a care leavers' service."""

__version__ = "0.1.0"
