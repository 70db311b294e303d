"""The simulated retailer: a deterministic world that writes what each source system would
deliver (defects included) and the ground truth that only the simulation knows.

Layout: engine.py runs the day (Simulation: the world's state and shared primitives) over
events/<system>.py, what each source system does in a day (ERP, planning, POS, webshop,
marketplace, WMS) and events/valuing.py (the reference valuation of the day's events);
deliver.py writes the landing files (Deliverer.write_file, with the planned defects) through
delivery/<system>.py, what each system delivers, and delivery/faults.py (file-level defects);
truth.py writes the truth. Master data is in world.py and fx.py; optional behaviours have a
module each (wholesale, kits, opening, found_stock, master_deltas, minimal_erp, anomalies, ...).
"""
