"""Registration service: the public front door that turns form posts into registration events."""
