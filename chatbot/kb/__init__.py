"""Tools that work on the knowledge base as a whole: coverage, and drafting a new school's file."""
