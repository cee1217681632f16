"""Differentiable primitive Functions, one module per family."""
