"""Who is online where: the `Presence` protocol (`base`), one process (`memory`), many (`redis`)."""
