"""Dash layouts of the dashboard's pages (each a function of the loaded `Results`)."""
