"""perovscreen.store"""
