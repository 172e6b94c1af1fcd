"""perovscreen.bvse"""
