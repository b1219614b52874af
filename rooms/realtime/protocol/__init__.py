"""The wire: client frames in (`inbound`), server frames out (`outbound`), close codes
(`codes`), and what travels between processes on the channel layer (`layer`)."""
