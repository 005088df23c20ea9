"""The `chatbot` command, outside the core: it wires the core and the adapters together."""
