"""Message Batches: the batch record and its lifecycle, and the checks on a create request."""
