"""What is done to guests: lifecycle actions, the serial console, the screen and keyboard."""
