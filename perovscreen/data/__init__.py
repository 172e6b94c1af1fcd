"""perovscreen.data"""
