import sys

from .faces._cli import main

sys.exit(main())
