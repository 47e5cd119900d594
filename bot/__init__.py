"""signoff's Slack surface and command line: ``bot.cli:main`` is the ``signoff`` command."""

__all__: list[str] = []
