"""The ``photo3d`` command."""
