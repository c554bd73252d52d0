"""recommerce: store nodes and central services for a chain of second-hand stores."""
