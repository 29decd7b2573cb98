"""Bill parsers, one module per utility, and the shared bill schema."""
