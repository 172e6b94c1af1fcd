"""Read-only browser view of screening results: Pareto probabilities, intervals, valid counterfactuals."""
