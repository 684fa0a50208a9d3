"""`python -m mockbay`: the same as the `mockbay` command."""

import sys

from mockbay.cli import main

sys.exit(main())
