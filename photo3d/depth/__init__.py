"""Depth.

Estimation with Hugging Face models and its disk cache, edge-aware upsampling, and the conversions
between depth, disparity and ray distance.
"""
