"""perovscreen.executors"""
