"""What happens in each source system during a simulated day, one module per system.

Each module holds the day's steps of one system as functions of the Simulation (the shared
state: stock arrays, pending work, the main random stream) and the day's DayOutput;
simulation/engine.py runs them in the day's order. The order of the calls is the order of the
draws from the main stream, so a step moved between modules must keep its place in
Simulation.step.
"""
