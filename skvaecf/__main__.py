"""``python -m skvaecf``: the same as the ``skvaecf`` command."""

from skvaecf.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
