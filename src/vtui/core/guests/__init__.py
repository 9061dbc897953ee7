"""What is done to guests: lifecycle actions and the serial console."""
