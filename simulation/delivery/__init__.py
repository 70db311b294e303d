"""What each source system writes into the landing zone, one module per system (and one for
file-level defects).

Each module turns the day's DayOutput (simulation/engine.py) into one system's extracts through
the Deliverer (simulation/deliver.py), which writes every file with its planned defects;
simulation/truth.py writes the truth. The order of the calls in Deliverer.deliver_day is the
order of the draws from the shared random streams.
"""
