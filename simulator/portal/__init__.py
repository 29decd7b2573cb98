"""The local CEMIG Agência Virtual: a FastAPI app with the real portal's obstacles, for tests and QA."""
