"""The ``wugan`` command line: ``main`` is the command; one module per command group (``rules``, ``model``,
``synth``, ``web``, ``retention``); ``options`` what they share. Engines and storage hold no commands.
"""
