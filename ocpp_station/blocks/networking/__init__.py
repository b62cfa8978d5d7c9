"""Network connection profiles (use cases B09, B10, A05): configuration slots, their priority
and the choice of the slot for each connection attempt."""
