import sys

from portfolio_kit.runner.cli import main

sys.exit(main())
