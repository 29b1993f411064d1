"""Authentication mechanisms: password policy, throttling, secrets. Policy lives in services."""
