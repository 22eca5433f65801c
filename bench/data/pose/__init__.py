"""Pose datasets: the MMAction2/PYSKL annotation pickle (reader, writer, kept extra fields), the
Kinect v1 converters and their class names, and their preparation into the cache."""
