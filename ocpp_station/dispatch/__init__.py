"""How station→CSMS messages go: the pure send policy, the link state and the dispatcher."""
