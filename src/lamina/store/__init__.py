"""Durable state behind one interface (base.py, one module per kind of state beside it);
SQLite (sqlite.py) is the embedded default."""
