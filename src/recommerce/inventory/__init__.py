"""Inventory: items, their status lifecycle and their labels."""
