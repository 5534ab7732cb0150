"""Renderers: plain text here and in ``text``; rich views in ``views`` (imported lazily)."""
