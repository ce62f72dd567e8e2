"""Accounts registry: creator accounts, crawler workers, teams, assignment and QR login."""
