"""The sync engine: reads changes on both sides of a flow, merges, writes, records.

Its rooms, each one concern: ``flow`` (``FlowRun``, the order of work and the entry points),
``runner`` (leases and run records around a ``FlowRun``), ``context`` (what a run works with),
``read`` (listing, classification, filter), ``pending`` (changes waiting for the other side),
``write`` (updates, read-back, creates with intents), ``match`` (first-run matching),
``conflicts`` (three-way merges applied, resolved conflicts), ``deletions``, ``batch`` (one commit
per page), ``cursor``, ``policies`` (what is particular to a record type), ``results``,
``customer_notes``; ``merge`` and ``records`` are the pure pieces, ``retry`` the backoff.
"""
