"""Dash pages. Thin: a layout function and module-level callbacks that call services."""
