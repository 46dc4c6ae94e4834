"""The composition root's container, handed to the routes: the function's handler appends it to the resolver's
context (`app.append_context(container=container())`) and a route declares a `Handed` parameter to get it.

It is read through Powertools' `Request` of the resolver handling the event, never through a router: routers
are module-level and point at the last resolver built in the process, which need not be the one handling
this event (the local stack runs several instances of a function in one process).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request

from qbsync.composition import Container, from_context


def _handed(request: Request) -> Container:
    return from_context(request.context)


Handed = Annotated[Container, Depends(_handed)]
