"""perovscreen.potentials"""
