"""The notifier: turns placements into emails with calendar invites, exactly once in effect."""
