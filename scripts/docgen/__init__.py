"""The generators behind ``scripts/gen_docs.py``, one module a concern."""
