"""Who may open a socket: the site's own Origin, a valid room ticket, a parsed query string."""
