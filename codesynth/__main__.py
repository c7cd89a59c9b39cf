import sys

from codesynth.cli import main

sys.exit(main())
