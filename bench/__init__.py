"""`make bench`: performance budgets from the issues, measured on real stores."""
