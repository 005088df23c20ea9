"""School social-media policy chat-bot: the async core (no platform code here)."""

__version__ = "0.1.0"
