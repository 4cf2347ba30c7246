"""The test settings: the portal's own settings in development mode, asked for explicitly (a
deployment that sets nothing runs in production mode). Worker processes started by the tests inherit
PORTAL_ENV from this process's environment."""

import os

os.environ.setdefault("PORTAL_ENV", "development")

from consortium.settings import *  # noqa: F403
