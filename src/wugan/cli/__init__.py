"""The ``wugan`` command line: ``main`` is the command, ``options`` what its groups share.

Kept empty so that a command group elsewhere (``wugan.scoring.cli``) can import
the shared options without loading every group.
"""
