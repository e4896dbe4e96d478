"""Persistence: models, repositories that never commit, the engine, and the migrations runner."""
