"""The bundle of services a Web API method or control route works with."""

from __future__ import annotations

from dataclasses import dataclass

from localslack.agent_sessions import AgentSessions
from localslack.chaos import Chaos
from localslack.config import WorkspaceConfig
from localslack.events import EventPublisher
from localslack.home import HomeTabs
from localslack.ids import Clock, IdSource
from localslack.interactions import Interactions
from localslack.messages import MessageOps
from localslack.responseurl import ResponseUrls
from localslack.socketmode import SocketHub
from localslack.state import Workspace
from localslack.streams import Streams
from localslack.thread_status import ThreadStatuses
from localslack.views import Views

__all__ = ["Runtime"]


@dataclass
class Runtime:
    config: WorkspaceConfig
    clock: Clock
    ids: IdSource
    workspace: Workspace
    hub: SocketHub
    events: EventPublisher
    messages: MessageOps
    views: Views
    response_urls: ResponseUrls
    interactions: Interactions
    statuses: ThreadStatuses
    sessions: AgentSessions
    streams: Streams
    homes: HomeTabs
    chaos: Chaos
    # Known only once the listening socket is bound (port 0 means "pick one").
    base_url: str = ""
