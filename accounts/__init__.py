"""User accounts: sign-up, log-in with throttling, password management, API tokens."""
