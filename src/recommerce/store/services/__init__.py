"""Store-side services: handlers that need only the store's database, wired by the app."""
