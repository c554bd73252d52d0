"""The store node's database: tables, migrations and the unit of work."""
