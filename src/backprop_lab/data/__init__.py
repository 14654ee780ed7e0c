"""Data: the synthetic datasets, train/test splits and CSV files of points.

May import: ``engine`` (for seeding and argument checks).
"""
