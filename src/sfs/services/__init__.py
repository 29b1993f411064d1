"""Domain rules, framework-free: every adapter (portal, REST, CLI) calls these."""
