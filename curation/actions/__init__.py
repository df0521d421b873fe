"""Writes that matter, as verb-named functions (house style rule 9).

`cases` holds the core: creating and editing case records and the state
machine's `transition()`. The curator workflow (`submission`) and the review
workflow (`review`) build on it.
"""
