"""HTTP doors to the sync engine: push, pull, conflict resolution, record history."""
