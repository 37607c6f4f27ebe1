"""``python -m photo3d`` runs the command line."""

from .cli.app import main

main()
