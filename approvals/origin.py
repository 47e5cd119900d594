"""Which organization a decider acts from, as data the bot hands in.

Under an ``anyone`` rule "anyone" is anyone of the organization signoff is installed in:
a person from another organization who sees a card in a channel shared with theirs
(Slack Connect) is no approver unless a rule names them (their user id, or a user group
they are in). Slack says both sides: a click's ``user.team_id`` is the clicker's own
team (on Enterprise Grid their organization's ``E…`` id), and ``auth.test`` names the
installation's team and, on Grid, its enterprise.

A decision without an origin (a terminal's ``signoff approve --as``, an operator on the
machine) is not asked about organizations: the operator is the installation.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Installation", "Origin", "recorded_origin"]


class Installation(BaseModel):
    """The organization signoff is installed in (``auth.test``'s ``team_id`` and, on
    Enterprise Grid, ``enterprise_id``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str
    enterprise: str = ""

    def includes(self, team: str) -> bool:
        """Is ``team`` (a click's ``user.team_id``) this organization? On Grid a click
        names the enterprise, or a workspace of it."""
        return bool(team) and team in (self.team, self.enterprise)


class Origin(BaseModel):
    """Where one decision comes from: the decider's team as their click named it (""
    when it named none: counted as outside), beside the installation's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str
    installation: Installation

    @property
    def outside(self) -> bool:
        return not self.installation.includes(self.team)


def recorded_origin(origin: Origin | None) -> Origin | None:
    """What a vote or an edit records of where it came from: only another organization's;
    the installation's people stay who they are, and their records as older versions read
    them."""
    return origin if origin is not None and origin.outside else None
