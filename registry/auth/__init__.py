"""Login, logout, two-factor codes, invitations, password reset and account settings."""
