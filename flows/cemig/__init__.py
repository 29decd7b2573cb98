"""CEMIG Agência Virtual flows."""
