"""The render machinery (Qt, no widgets): the workers and their threads, the scheduler that
turns the plan into jobs and keeps what comes back, the tile cache and the ground-truth numbers."""
