"""Battery science for 48 V LFP packs: analytics, charge limits and the Pylontech CAN codec.

A pure library (numpy, python-can, cantools); it never imports Django.
"""
