"""Input and output.

Photos, depth files, depth embedded by phones and cameras, video, mesh and image files, and outputs
written atomically.
"""
