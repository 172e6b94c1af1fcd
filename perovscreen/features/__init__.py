"""perovscreen.features"""
