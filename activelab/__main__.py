"""``python -m activelab``: the same as the ``activelab`` command."""
import sys

from activelab.app.launcher import main

sys.exit(main())
