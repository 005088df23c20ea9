"""Platform adapters: translate a platform's updates to the core's message model and back."""
