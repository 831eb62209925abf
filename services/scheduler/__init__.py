"""The scheduler: seats each registrant by their ranked preferences, or waitlists them."""
