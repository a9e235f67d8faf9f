"""The reference connector: a complete, fast connector over a local SQLite store.

It is the tool the engine's own tests, the crash test and the benchmark sync against:
``store`` (records and notes, and the helpers a test uses as the tool's human user), ``faults``
(fault injection the connector meets, shared across processes) and ``connector`` (the ``Connector``
over a store). ``database`` is the SQLite plumbing they share. Everything public is importable from
here, as before the split.
"""

from hub.testing.reference.connector import ReferenceConnector, ReferenceSettings
from hub.testing.reference.faults import FAULT_MODES, OPERATIONS, Fault, FaultTable
from hub.testing.reference.store import ReferenceStore, from_micros, to_micros

__all__ = [
    "FAULT_MODES", "OPERATIONS", "Fault", "FaultTable", "ReferenceConnector", "ReferenceSettings",
    "ReferenceStore", "from_micros", "to_micros",
]
