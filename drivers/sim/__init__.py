"""The simulated My Number card, its profiles and its bridges to real reader stacks."""
