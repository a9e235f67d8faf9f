"""The sync engine: reads changes on both sides of a flow, merges, writes, records."""
