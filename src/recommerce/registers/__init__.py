"""Legal registers: the police register of acquisitions, and its precious-metals twin."""
