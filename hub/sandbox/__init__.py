"""Stateful stand-ins of the tools' APIs on one loopback port (``pmhub sandbox``).

``service.SandboxService`` is the base a plugin's stand-in subclasses; ``server`` mounts the
services, adds the ``/_sandbox`` control API (reset, request log, fault injection) and serves them;
``deliveries`` sends the stand-ins' webhook deliveries from a background thread, with faults.
"""
