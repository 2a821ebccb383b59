"""`python -m myna_reader.daemon.cli`: the command line, as the console script runs it."""

import sys

from myna_reader.daemon.cli import main

sys.exit(main())
