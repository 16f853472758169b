"""Measuring the analysis itself: speed benchmark and minimal-detectable-change estimation.

Uses the simulator (known truths) and real photographs; the product never imports it.
"""
