"""`python -m sloctl.demo`: see sloctl.demo.run."""

import sys

from sloctl.demo.run import main

sys.exit(main())
