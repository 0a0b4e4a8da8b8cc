"""``python -m cltk``: the ``cltk`` command, for environments where the console script is not on
PATH (a venv not activated, ``pipx run``, a cluster job). The one module of the toolkit that imports
the CLI: it is the entry point, not a library module."""
from cltk.cli.main import main

if __name__ == "__main__":
    main()
