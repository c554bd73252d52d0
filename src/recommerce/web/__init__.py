"""HTTP plumbing shared by the store node and central: problem details, middleware, metrics."""
