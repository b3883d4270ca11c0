"""Wording of the analyses' results: the messages the report writes from their data, in its language."""
