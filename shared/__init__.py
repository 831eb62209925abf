"""Code every service shares: event contracts, topics, settings, logging and the Kafka delivery policy."""
