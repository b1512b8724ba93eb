"""`python -m hubdesk` runs the command line."""

from hubdesk.cli import main

raise SystemExit(main())
