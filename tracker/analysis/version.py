"""The analysis version: bumped whenever a change can move any figure.

Stored with every result, so that results never change silently and a chart
never mixes figures from two versions.
"""

ANALYSIS_VERSION = "1.5.0"
