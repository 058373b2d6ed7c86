"""The rules of the register, as plain functions over models and a session. No Flask requests here."""
