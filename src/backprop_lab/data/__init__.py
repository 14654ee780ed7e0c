"""Data: the synthetic datasets (classification and regression surfaces), train/test
splits and CSV files of points.

May import: ``engine`` (for seeding and argument checks).
"""
