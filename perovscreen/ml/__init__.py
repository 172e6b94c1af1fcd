"""perovscreen.ml"""
