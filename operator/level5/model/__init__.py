"""The OpenAI-compatible model client and the parsing of its answers."""
