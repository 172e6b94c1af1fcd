import sys

from perovscreen.cli.main import main

sys.exit(main())
