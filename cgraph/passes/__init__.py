"""Passes: plain functions from a graph to a graph or to values."""
