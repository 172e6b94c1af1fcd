"""The command line: thin handlers over the Python API (`perovscreen.cli.main:main`)."""
