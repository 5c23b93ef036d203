"""tonghop: consolidation of district preschool reports (template DA33-MN-v1) for a Sở GD&ĐT."""

__version__ = "0.1.0"
