"""`python -m sloctl.demo`: see sloctl.demo.run. Needs the demo extra (serve, dashboard, NumPy,
aiosmtpd), which `make demo` installs."""

import sys

from sloctl.errors import MissingExtraError
from sloctl.extras import require

try:
    require("demo", "`python -m sloctl.demo`")
except MissingExtraError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)

from sloctl.demo.run import main  # after the check: it imports the extras

sys.exit(main())
