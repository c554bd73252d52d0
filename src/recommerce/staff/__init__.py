"""Staff: accounts, roles and what each role may do."""
