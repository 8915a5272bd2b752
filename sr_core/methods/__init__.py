"""One module per architecture; ``sr_core.architectures`` imports them all explicitly."""
