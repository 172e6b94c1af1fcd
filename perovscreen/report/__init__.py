"""Reports: Markdown/HTML with plots from the funnel's typed results."""
