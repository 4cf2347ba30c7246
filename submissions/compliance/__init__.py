"""The MLPerf compliance engine (pure Python, no Django)."""
