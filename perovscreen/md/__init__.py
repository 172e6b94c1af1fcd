"""perovscreen.md"""
