"""A tiny library for kfci's example repository."""
