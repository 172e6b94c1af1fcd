import sys

from perovscreen.cli import main

sys.exit(main())
