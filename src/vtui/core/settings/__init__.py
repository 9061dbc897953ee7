"""What the user keeps between runs: saved hosts, key bindings, preferences."""
