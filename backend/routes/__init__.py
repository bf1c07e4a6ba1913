"""HTTP and WebSocket routes: thin transport over backend.sessions."""
