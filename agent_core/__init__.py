"""The agent: the loop, models, tools, and the engine that ties them to storage.

Import what you need from its modules (``agent_core.engine``, ``agent_core.tools``,
``agent_core.model`` ...); the package itself exports nothing, so importing it is cheap.
"""

__all__: list[str] = []
