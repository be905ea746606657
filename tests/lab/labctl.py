#!/usr/bin/env python3
"""labctl: the lab's command line (docs/lab.md). The code is ``linkops_lab.ctl``.

This file is the entry point the Makefile, molecule, the docs and ``Lab.start`` run
(``.venv/bin/python tests/lab/labctl.py up``): run as a script, its directory
(tests/lab) is the first entry of ``sys.path``, so the package imports as it is.
"""

import sys

from linkops_lab.ctl import main

if __name__ == "__main__":
    sys.exit(main())
