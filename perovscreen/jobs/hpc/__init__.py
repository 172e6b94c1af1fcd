"""Cluster execution: a stage's subjects split into chunks, run as SLURM or PBS array tasks by `perovscreen
worker`, results spooled to files beside the scripts (markers are the source of truth, the scheduler a
hint), then folded into the store by `collect` with one writer."""
