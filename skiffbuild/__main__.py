"""``python -m skiffbuild``: the ``skiffbuild`` command."""

import sys

from skiffbuild.app.cli import main

sys.exit(main())
