"""Jobs: what a unit of work is (`Stage`), the runner that applies it to subjects, and the executors."""
