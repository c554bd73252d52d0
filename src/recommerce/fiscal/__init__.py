"""Fiscal rules of the till: VAT on the margin, the chained journal, closings and archives."""
