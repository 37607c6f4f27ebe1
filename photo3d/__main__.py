"""``python -m photo3d`` runs the command line."""

from .cli import main

main()
