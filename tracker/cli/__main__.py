"""``python -m tracker.cli`` runs the same CLI as the ``tracker`` console script."""

from tracker.cli import main

main()
