"""Message search: what a query says (`query`), the full-text index on each database (`index`,
`postgres`, `sqlite`), the one read (`selector`) and its rate limit (`limit`)."""
