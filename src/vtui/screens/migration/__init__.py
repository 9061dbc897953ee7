"""Migration on screen: the form with its checks, a job's progress, the jobs list."""
