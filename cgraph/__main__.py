"""``python -m cgraph``: the ``cgraph`` command."""

from .cli import main

raise SystemExit(main())
