"""The public application to join the register."""
