"""Understanding a message: a sentence encoder's semantic heads fused with the lexical matcher."""
