"""``python -m pretrainlab`` runs the command line, like the ``pretrainlab`` script."""
import sys

from .cli import main

sys.exit(main())
