"""``python -m cmrseg.cli``: the same as the ``cmrseg`` command."""

import sys

from cmrseg.cli import main

sys.exit(main())
