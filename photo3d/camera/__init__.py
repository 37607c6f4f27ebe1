"""The camera: intrinsics and poses, trajectories, framing of the output, the subject and stereo eyes."""
