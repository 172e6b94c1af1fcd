"""perovscreen.pipeline"""
