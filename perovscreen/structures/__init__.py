"""perovscreen.structures"""
