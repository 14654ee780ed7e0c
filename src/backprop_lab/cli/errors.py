"""Exit codes and the error for bad input: what every command and ``main`` share.

Standard library only, so ``main`` can use them before anything heavy is imported.
"""

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
EXIT_INTERNAL = 70  # EX_SOFTWARE


class UsageError(Exception):
    """Bad input from the command line, a config file or a run folder."""
