"""The simulated retailer: a deterministic world that writes what each source system would
deliver (defects included) and the ground truth that only the simulation knows."""
