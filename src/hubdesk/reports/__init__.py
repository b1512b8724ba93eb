"""Daily summary, keeping-in-touch and exports."""
