"""activelab desktop app (Qt): thin views and the wiring between them."""
