"""Sub-commands of the `chatbot` CLI, one Typer app per area, mounted by chatbot.cli."""
