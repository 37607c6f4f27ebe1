"""The layered depth image (LDI).

Depth discontinuities, layering, alpha mattes at silhouettes and the inpainting of back layers.
"""
