"""Messages per user per room: the `RateLimiter` protocol (`base`), one process (`memory`), many (`redis`)."""
