"""Diagrams of the book."""
