"""The Anthropic wire contract: request view, validation, errors, SSE framing. Stdlib only."""
